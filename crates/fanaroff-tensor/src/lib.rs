//! fanaroff-tensor (under construction).
#![deny(missing_docs)]
