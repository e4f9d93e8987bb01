//! A small, safe pickle decoder for numpy-bearing CIFAR-style batches.
//!
//! Only the opcodes that `pickle` (protocols 2–5) emits for dicts, lists,
//! tuples, numbers, strings, bytes and numpy arrays/scalars are supported.
//! No Python code is ever "called": the few globals that numpy pickles refer
//! to (`_reconstruct`, `ndarray`, `dtype`, `scalar`, `_frombuffer`,
//! `_codecs.encode`) are interpreted by this module, every other global is
//! rejected with an error.

mod numpy;
mod value;
mod vm;

pub(crate) use numpy::{DtypeKind, NdArray};
pub(crate) use value::Value;
pub(crate) use vm::load;
