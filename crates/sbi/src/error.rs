//! What can go wrong between the kit and a scanner, in words an operator can act on.

use ghidanh_record::Lang;

/// The SBI error codes Ghi Danh sends and reads (`error.errorCode`), docs/sbi.md § Error codes.
pub mod codes {
    /// Success.
    pub const SUCCESS: &str = "0";
    /// MOSIP: device not registered.
    pub const NOT_REGISTERED: &str = "100";
    /// MOSIP: unable to detect a biometric object (no finger on the glass).
    pub const NO_BIOMETRIC: &str = "101";
    /// MOSIP: technical error during extraction.
    pub const TECHNICAL: &str = "102";
    /// MOSIP: requested number of biometrics not supported (Ghi Danh: one finger per capture).
    pub const COUNT_NOT_SUPPORTED: &str = "109";
    /// Device provider range (MOSIP reserves 5xx): a capture is already in progress.
    pub const BUSY: &str = "501";
    /// Device provider range: no finger came within the request's timeout.
    pub const TIMEOUT: &str = "502";
    /// Device provider range: the request is not one the device reads.
    pub const BAD_REQUEST: &str = "503";
}

/// Why a scanner gave no usable finger.
#[derive(Debug, thiserror::Error)]
pub enum SbiError {
    /// Nothing answers SBI on that port (no service, connection refused, or no answer in time).
    #[error("no scanner answers: {0}")]
    Unreachable(String),
    /// The scanner is capturing for someone else.
    #[error("the scanner is busy")]
    Busy,
    /// The scanner says it is not ready (warming up, lid closed).
    #[error("the scanner is not ready")]
    NotReady,
    /// The scanner is not registered (MOSIP error 100).
    #[error("the scanner is not registered")]
    NotRegistered,
    /// No finger was detected (MOSIP error 101).
    #[error("no finger detected on the scanner")]
    NoFinger,
    /// No finger within the request's timeout, or no answer within it.
    #[error("the capture timed out")]
    Timeout,
    /// The connection broke in the middle of an answer: the scanner was unplugged.
    #[error("the scanner was disconnected during the capture")]
    Unplugged,
    /// Another error the device reported.
    #[error("scanner error {code}: {info}")]
    Device {
        /// `errorCode`.
        code: String,
        /// `errorInfo`.
        info: String,
    },
    /// The answer is not what SBI says (malformed, wrong type, too large); names the field.
    #[error("bad scanner answer: {field}: {reason}")]
    BadResponse {
        /// The field, as SBI spells it (`biometrics[0].data`, `bioValue`, ...).
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A signature does not verify over the bytes as received.
    #[error("the scanner's signature does not verify")]
    BadSignature,
    /// Signed by a key other than the pinned one: another device, or an impostor.
    #[error("signed by a key other than the paired scanner's")]
    WrongKey,
    /// The kit asked for something SBI cannot carry (a finger position outside 1–10).
    #[error("invalid capture request: {0}")]
    InvalidRequest(&'static str),
    /// A signed field disagrees with the request (another capture's answer, another finger).
    #[error("the scanner answered {got:?} for {field}, the kit asked for {expected:?}")]
    Mismatch {
        /// The field.
        field: &'static str,
        /// What the kit asked for.
        expected: String,
        /// What the signed answer says.
        got: String,
    },
}

impl SbiError {
    /// The message for the operator, in Vietnamese or English.
    pub fn message(&self, lang: Lang) -> String {
        let vi = lang == Lang::Vi;
        let s = match self {
            SbiError::Unreachable(_) => match vi {
                true => "Không tìm thấy máy quét vân tay. Hãy kiểm tra dây cáp và dịch vụ SBI.",
                false => "No fingerprint scanner found. Check the cable and the SBI service.",
            },
            SbiError::Busy => match vi {
                true => "Máy quét đang bận. Hãy chờ một lát rồi thử lại.",
                false => "The scanner is busy. Wait a moment and try again.",
            },
            SbiError::NotReady => match vi {
                true => "Máy quét chưa sẵn sàng. Hãy chờ một lát rồi thử lại.",
                false => "The scanner is not ready. Wait a moment and try again.",
            },
            SbiError::NotRegistered => match vi {
                true => "Máy quét chưa được đăng ký. Hãy báo cho giám sát viên.",
                false => "The scanner is not registered. Tell your supervisor.",
            },
            SbiError::NoFinger => match vi {
                true => "Không thấy ngón tay trên mặt kính. Hãy đặt ngón tay phẳng và ấn nhẹ.",
                false => "No finger on the glass. Place the finger flat and press gently.",
            },
            SbiError::Timeout => match vi {
                true => "Hết thời gian chờ. Hãy đặt ngón tay lên máy quét rồi thử lại.",
                false => "Timed out. Place the finger on the scanner and try again.",
            },
            SbiError::Unplugged => match vi {
                true => "Máy quét bị ngắt kết nối. Hãy cắm lại rồi thử lại.",
                false => "The scanner was disconnected. Plug it back in and try again.",
            },
            SbiError::Device { .. } => match vi {
                true => "Máy quét báo lỗi. Hãy thử lại; nếu vẫn lỗi, hãy khởi động lại máy quét.",
                false => "The scanner reported an error. Try again; if it persists, restart the scanner.",
            },
            SbiError::BadResponse { .. } | SbiError::Mismatch { .. } => match vi {
                true => "Máy quét trả lời không hợp lệ. Hãy thử lại; nếu vẫn lỗi, hãy báo cho giám sát viên.",
                false => "The scanner gave an invalid answer. Try again; if it persists, tell your supervisor.",
            },
            SbiError::InvalidRequest(_) => match vi {
                true => "Yêu cầu chụp vân tay không hợp lệ. Hãy báo cho giám sát viên.",
                false => "The capture request is invalid. Tell your supervisor.",
            },
            SbiError::BadSignature | SbiError::WrongKey => match vi {
                true => "Không xác minh được máy quét này. Không dùng ảnh vân tay; hãy báo cho giám sát viên.",
                false => "This scanner could not be verified. The print is not used; tell your supervisor.",
            },
        };
        s.to_owned()
    }

    /// The error for an SBI `errorCode` other than success.
    pub(crate) fn from_code(code: &str, info: &str) -> SbiError {
        match code {
            codes::NOT_REGISTERED => SbiError::NotRegistered,
            codes::NO_BIOMETRIC => SbiError::NoFinger,
            codes::BUSY => SbiError::Busy,
            codes::TIMEOUT => SbiError::Timeout,
            _ => SbiError::Device {
                code: code.to_owned(),
                info: info.to_owned(),
            },
        }
    }

    pub(crate) fn bad(field: &'static str, reason: impl Into<String>) -> SbiError {
        SbiError::BadResponse {
            field,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_the_errors_the_operator_acts_on() {
        assert!(matches!(SbiError::from_code("101", ""), SbiError::NoFinger));
        assert!(matches!(
            SbiError::from_code("100", ""),
            SbiError::NotRegistered
        ));
        assert!(matches!(SbiError::from_code("501", ""), SbiError::Busy));
        assert!(matches!(SbiError::from_code("502", ""), SbiError::Timeout));
        match SbiError::from_code("103", "Device tamper detected") {
            SbiError::Device { code, info } => {
                assert_eq!(
                    (code.as_str(), info.as_str()),
                    ("103", "Device tamper detected")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn messages_are_vietnamese_first_and_english_on_request() {
        assert_eq!(
            SbiError::NoFinger.message(Lang::default()),
            "Không thấy ngón tay trên mặt kính. Hãy đặt ngón tay phẳng và ấn nhẹ."
        );
        assert_eq!(
            SbiError::Busy.message(Lang::En),
            "The scanner is busy. Wait a moment and try again."
        );
        // A detail from the device never reaches the operator's message.
        let e = SbiError::Device {
            code: "599".into(),
            info: "<script>".into(),
        };
        assert!(!e.message(Lang::Vi).contains("<script>"));
    }
}
