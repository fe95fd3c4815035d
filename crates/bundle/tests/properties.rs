//! Property tests for the parsers of outside bytes: no panic on anything, and whatever a
//! decoder accepts has exactly one encoding (the bytes it came from).

use ghidanh_bundle::testkit::sample_payload;
use ghidanh_bundle::{
    seal, CustodyReceipt, DeviceId, DeviceKey, Envelope, Payload, Receipt, RegistryKeys, RelayKeys,
};
use proptest::prelude::*;

fn sample_bytes() -> Vec<u8> {
    sample_payload(DeviceId::new()).to_cbor().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(p) = Payload::from_cbor(&data) {
            prop_assert_eq!(p.to_cbor().unwrap(), data.clone());
        }
        let _ = Envelope::parse(&data).and_then(|e| e.verify());
        let _ = Receipt::verify(&data, RegistryKeys::generate().public());
        let _ = CustodyReceipt::verify(&data, &RelayKeys::generate().public());
    }

    #[test]
    fn mutated_payloads_decode_only_to_their_own_encoding(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = sample_bytes();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        if let Ok(p) = Payload::from_cbor(&bytes) {
            prop_assert_eq!(p.to_cbor().unwrap(), bytes);
        }
    }

    #[test]
    fn a_mutated_bundle_never_opens_to_another_payload(
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let keys = RegistryKeys::generate();
        let payload = sample_payload(DeviceId::new());
        let bytes = seal(&payload, &DeviceKey::generate(), keys.public(), 1).unwrap();
        let mut bad = bytes.clone();
        let i = at.index(bad.len());
        bad[i] = byte;
        match Envelope::parse(&bad).and_then(|e| e.open(&keys)) {
            Ok(p) => {
                // Only a no-op edit can open.
                prop_assert_eq!(&bad, &bytes);
                prop_assert_eq!(p, payload);
            }
            Err(_) => prop_assert_ne!(&bad, &bytes),
        }
    }
}
