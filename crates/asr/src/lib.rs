//! Speech recognition for sealscribe (being written).
