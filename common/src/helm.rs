//! The helm runner (filled in below).
