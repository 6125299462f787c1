//! OpenPGP for sealscribe (being written).
