//! Remote wipe: destroying the vault when the registry revokes the device.
