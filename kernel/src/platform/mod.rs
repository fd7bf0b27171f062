//! What a chip must provide for the main loop to run.

pub mod chip;
