//! JWS compact serialisation (RFC 7515) with `alg` "EdDSA" (RFC 8037, Ed25519), the device's
//! public key in the header as a `jwk` (kty "OKP", crv "Ed25519"). MOSIP signs with RS256 and
//! an X.509 chain instead (docs/sbi.md § Deviations).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::SbiError;

/// base64url without padding, as JWS spells every segment.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding; `field` names the part in the error.
pub fn unb64(field: &'static str, text: &str) -> Result<Vec<u8>, SbiError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| SbiError::bad(field, format!("not base64url: {e}")))
}

/// `header.payload.signature` over `payload`, signed by `key`, the key's public half in the header.
pub fn sign(key: &SigningKey, payload: &[u8]) -> String {
    let header = serde_json::json!({
        "alg": "EdDSA",
        "typ": "JWT",
        "jwk": {"kty": "OKP", "crv": "Ed25519", "x": b64(key.verifying_key().as_bytes())},
    });
    let signing_input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(payload));
    let signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", b64(&signature.to_bytes()))
}

/// Verifies `token` and returns the public key of its header and its payload bytes.
///
/// With `expected`, a header key other than it is [`SbiError::WrongKey`] (checked before the
/// signature, so an impostor's well-signed answer is named for what it is). The signature is
/// checked over `header.payload` exactly as received (RFC 7515 §5.2), strictly (no
/// small-order keys, canonical S).
pub fn verify(
    field: &'static str,
    token: &str,
    expected: Option<&[u8; 32]>,
) -> Result<([u8; 32], Vec<u8>), SbiError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SbiError::bad(
            field,
            "not a JWS in compact form (three parts)",
        ));
    };
    let header: serde_json::Value = serde_json::from_slice(&unb64(field, h)?)
        .map_err(|e| SbiError::bad(field, format!("JWS header is not JSON: {e}")))?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("EdDSA") {
        return Err(SbiError::bad(field, "JWS alg is not EdDSA"));
    }
    let jwk = header
        .get("jwk")
        .ok_or_else(|| SbiError::bad(field, "JWS header has no jwk"))?;
    if jwk.get("kty").and_then(|v| v.as_str()) != Some("OKP")
        || jwk.get("crv").and_then(|v| v.as_str()) != Some("Ed25519")
    {
        return Err(SbiError::bad(field, "jwk is not an OKP Ed25519 key"));
    }
    let x = jwk
        .get("x")
        .and_then(|v| v.as_str())
        .ok_or_else(|| SbiError::bad(field, "jwk has no x"))?;
    let key: [u8; 32] = unb64(field, x)?
        .try_into()
        .map_err(|_| SbiError::bad(field, "jwk x is not 32 bytes"))?;
    if expected.is_some_and(|e| *e != key) {
        return Err(SbiError::WrongKey);
    }
    let signature: [u8; 64] = unb64(field, s)?
        .try_into()
        .map_err(|_| SbiError::BadSignature)?;
    let payload = unb64(field, p)?;
    let verifying = VerifyingKey::from_bytes(&key).map_err(|_| SbiError::BadSignature)?;
    let signing_input = &token[..h.len() + 1 + p.len()];
    verifying
        .verify_strict(signing_input.as_bytes(), &Signature::from_bytes(&signature))
        .map_err(|_| SbiError::BadSignature)?;
    Ok((key, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    #[test]
    fn a_token_verifies_and_gives_back_its_key_and_payload() {
        let token = sign(&key(1), b"{\"a\":1}");
        assert_eq!(token.split('.').count(), 3);
        let (k, payload) = verify("data", &token, None).unwrap();
        assert_eq!(k, *key(1).verifying_key().as_bytes());
        assert_eq!(payload, b"{\"a\":1}");
        let pinned = *key(1).verifying_key().as_bytes();
        assert!(verify("data", &token, Some(&pinned)).is_ok());
    }

    #[test]
    fn tampering_another_key_and_malformed_tokens_are_refused() {
        let token = sign(&key(1), b"{\"a\":1}");
        let parts: Vec<&str> = token.split('.').collect();
        let other = sign(&key(2), b"{\"a\":2}");
        let o: Vec<&str> = other.split('.').collect();
        // Another payload under the first signature.
        let swapped = format!("{}.{}.{}", parts[0], o[1], parts[2]);
        assert!(matches!(
            verify("data", &swapped, None),
            Err(SbiError::BadSignature)
        ));
        // Another key in the header: WrongKey when pinned, BadSignature when not.
        let rekeyed = format!("{}.{}.{}", o[0], parts[1], parts[2]);
        assert!(matches!(
            verify("data", &rekeyed, None),
            Err(SbiError::BadSignature)
        ));
        let pinned = *key(1).verifying_key().as_bytes();
        assert!(matches!(
            verify("data", &other, Some(&pinned)),
            Err(SbiError::WrongKey)
        ));
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.x.y",
            &format!("{}.{}.AAAA", parts[0], parts[1]),
        ] {
            let e = verify("data", bad, None).unwrap_err();
            assert!(
                matches!(
                    e,
                    SbiError::BadResponse { field: "data", .. } | SbiError::BadSignature
                ),
                "{bad}: {e:?}"
            );
        }
        let none = format!("{}.{}.{}", b64(br#"{"alg":"none"}"#), parts[1], parts[2]);
        match verify("data", &none, None) {
            Err(SbiError::BadResponse { field, reason }) => {
                assert_eq!((field, reason.as_str()), ("data", "JWS alg is not EdDSA"))
            }
            other => panic!("{other:?}"),
        }
    }
}
