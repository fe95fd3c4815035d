//! Key ids and rotation: a bundle sealed to an older registry key still opens.

use ghidanh_bundle::testkit::sample_payload;
use ghidanh_bundle::{seal, DeviceId, DeviceKey, Envelope, Error, Keyring, RegistryKeys};

#[test]
fn a_bundle_sealed_to_the_old_key_opens_after_rotation() {
    let old = RegistryKeys::generate();
    let old_public = old.public().clone();
    let mut ring = Keyring::new(old);
    let device = DeviceKey::generate();
    let p_old = sample_payload(DeviceId::new());
    let before = seal(&p_old, &device, &old_public, 1).unwrap();

    ring.rotate(RegistryKeys::generate()).unwrap();
    assert_ne!(ring.current().public().key_id(), old_public.key_id());
    let p_new = sample_payload(DeviceId::new());
    let after = seal(&p_new, &device, ring.current().public(), 2).unwrap();

    assert_eq!(
        Envelope::parse(&before).unwrap().open(&ring).unwrap(),
        p_old
    );
    assert_eq!(Envelope::parse(&after).unwrap().open(&ring).unwrap(), p_new);
    assert_eq!(ring.keys().count(), 2);
}

#[test]
fn an_unknown_key_id_is_wrong_recipient_naming_every_held_id() {
    let ring =
        Keyring::from_keys(vec![RegistryKeys::generate(), RegistryKeys::generate()]).unwrap();
    let stranger = RegistryKeys::generate();
    let bytes = seal(
        &sample_payload(DeviceId::new()),
        &DeviceKey::generate(),
        stranger.public(),
        1,
    )
    .unwrap();
    match Envelope::parse(&bytes).unwrap().open(&ring) {
        Err(Error::WrongRecipient { found, expected }) => {
            assert_eq!(found, stranger.public().key_id().as_str());
            for k in ring.keys() {
                assert!(expected.contains(k.public().key_id().as_str()));
            }
        }
        other => panic!("expected WrongRecipient, got {other:?}"),
    }
}

#[test]
fn a_keyring_refuses_no_key_and_the_same_key_twice() {
    assert!(Keyring::from_keys(Vec::new()).is_err());
    let k = RegistryKeys::generate();
    let again = RegistryKeys::from_secret_bytes(&k.secret_bytes()).unwrap();
    let mut ring = Keyring::new(k);
    assert_eq!(
        ring.rotate(again),
        Err(Error::Field {
            field: "keyring",
            rule: "holds the same key twice"
        })
    );
}
