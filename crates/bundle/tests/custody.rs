//! Custody receipts: signed by a relay, never mistaken for the registry's verdict.

use ghidanh_bundle::{
    BundleId, CustodyReceipt, Error, Receipt, ReceiptId, RegistryKeys, RelayKeys, Sha256,
};

fn custody(relay: &RelayKeys) -> CustodyReceipt {
    CustodyReceipt {
        receipt_id: ReceiptId::new(),
        issued_at: 1_790_000_200,
        relay_key_id: relay.public().key_id().clone(),
        submission_sha256: Sha256::of(b"bundle bytes"),
        bundle_id: BundleId::new(),
    }
}

#[test]
fn custody_round_trips_under_the_relay_key() {
    let relay = RelayKeys::generate();
    let r = custody(&relay);
    let bytes = r.sign(&relay);
    assert_eq!(CustodyReceipt::verify(&bytes, &relay.public()).unwrap(), r);
    assert!(relay.public().key_id().as_str().starts_with("rl1-"));
    assert_eq!(relay.public().key_id().as_str().len(), 4 + 16);
}

#[test]
fn another_relay_or_a_flipped_byte_fails() {
    let relay = RelayKeys::generate();
    let bytes = custody(&relay).sign(&relay);
    assert_eq!(
        CustodyReceipt::verify(&bytes, &RelayKeys::generate().public()),
        Err(Error::BadSignature)
    );
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x20;
        assert!(
            CustodyReceipt::verify(&bad, &relay.public()).is_err(),
            "flip {i}"
        );
    }
}

#[test]
fn custody_is_never_a_registry_verdict() {
    // A relay key that is also a registry signing key (the worst case) still cannot turn
    // custody into acceptance: the registry verifier refuses the verdict itself.
    let registry = RegistryKeys::generate();
    let secret = registry.secret_bytes();
    let mut half = [0u8; 32];
    half.copy_from_slice(&secret[..32]);
    let relay = RelayKeys::from_secret_bytes(&half);
    let bytes = custody(&relay).sign(&relay);
    assert_eq!(
        Receipt::verify(&bytes, registry.public()),
        Err(Error::Field {
            field: "verdict",
            rule: "custody receipt where a registry verdict is expected",
        })
    );
}
