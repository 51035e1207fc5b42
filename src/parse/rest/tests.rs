//! Unit tests of the REST page parser (filled in below).
