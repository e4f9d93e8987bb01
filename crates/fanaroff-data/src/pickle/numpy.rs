//! numpy's pickle protocol: `dtype` and `ndarray` reconstruction.
//!
//! numpy pickles an array as
//! `_reconstruct(ndarray, (0,), b'b')` followed by `BUILD` with the state
//! `(version, shape, dtype, is_fortran, raw_bytes)`, and a dtype as
//! `dtype('u1', False, True)` followed by `BUILD` with
//! `(version, byteorder, subarray, names, fields, elsize, alignment, flags)`.
//! Scalars (e.g. `numpy.str_`) are `scalar(dtype, raw_bytes)`.

use std::rc::Rc;

use super::value::Value;

/// The kind of a numpy dtype this decoder understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DtypeKind {
    /// `b1`
    Bool,
    /// `i1`..`i8`
    Int,
    /// `u1`..`u8`
    UInt,
    /// `f4`, `f8`
    Float,
    /// `U<n>`: UCS-4 text of n characters
    Unicode,
    /// `S<n>`: bytes
    Bytes,
}

/// A numpy dtype: kind, item size in bytes, and byte order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dtype {
    pub(crate) kind: DtypeKind,
    pub(crate) itemsize: usize,
    pub(crate) big_endian: bool,
}

impl Dtype {
    /// Parses the first argument of `numpy.dtype(...)`, e.g. `u1`, `<f4`, `U54`.
    pub(crate) fn parse(spec: &str) -> Result<Dtype, String> {
        let (big_endian, rest) = match spec.as_bytes().first() {
            Some(b'>') => (true, &spec[1..]),
            Some(b'<' | b'|' | b'=') => (false, &spec[1..]),
            _ => (false, spec),
        };
        let mut chars = rest.chars();
        let kind_char = chars
            .next()
            .ok_or_else(|| format!("empty dtype string {spec:?}"))?;
        let size: usize = chars
            .as_str()
            .parse()
            .map_err(|_| format!("unsupported dtype {spec:?}"))?;
        let (kind, itemsize) = match kind_char {
            'b' if size == 1 => (DtypeKind::Bool, 1),
            'i' if matches!(size, 1 | 2 | 4 | 8) => (DtypeKind::Int, size),
            'u' if matches!(size, 1 | 2 | 4 | 8) => (DtypeKind::UInt, size),
            'f' if matches!(size, 4 | 8) => (DtypeKind::Float, size),
            'U' => (
                DtypeKind::Unicode,
                size.checked_mul(4).ok_or("dtype size overflow")?,
            ),
            'S' => (DtypeKind::Bytes, size),
            _ => return Err(format!("unsupported dtype {spec:?}")),
        };
        Ok(Dtype {
            kind,
            itemsize,
            big_endian,
        })
    }

    /// Applies a dtype `BUILD` state (byte order and, for text, the element size).
    pub(crate) fn set_state(&mut self, state: &Value) -> Result<(), String> {
        let items = match state {
            Value::Tuple(t, _) => t.clone(),
            other => {
                return Err(format!(
                    "dtype state is a {}, expected a tuple",
                    other.type_name()
                ));
            }
        };
        if items.len() < 2 {
            return Err("dtype state tuple too short".into());
        }
        match items[1].as_text().as_deref() {
            Some(">") => self.big_endian = true,
            Some("<" | "|" | "=") => self.big_endian = false,
            _ => return Err("dtype state has no valid byte order".into()),
        }
        if matches!(self.kind, DtypeKind::Unicode | DtypeKind::Bytes)
            && let Some(elsize) = items.get(5).and_then(Value::as_int)
            && elsize >= 0
        {
            self.itemsize = usize::try_from(elsize).map_err(|_| "bad element size")?;
        }
        Ok(())
    }

    /// A short description like `uint8` or `<f4`.
    pub(crate) fn describe(&self) -> String {
        let order = if self.big_endian { ">" } else { "<" };
        match self.kind {
            DtypeKind::Bool => "bool".into(),
            DtypeKind::UInt if self.itemsize == 1 => "uint8".into(),
            DtypeKind::Int => format!("{order}i{}", self.itemsize),
            DtypeKind::UInt => format!("{order}u{}", self.itemsize),
            DtypeKind::Float => format!("{order}f{}", self.itemsize),
            DtypeKind::Unicode => format!("{order}U{}", self.itemsize / 4),
            DtypeKind::Bytes => format!("S{}", self.itemsize),
        }
    }

    /// Decodes one scalar of this dtype from its raw bytes.
    pub(crate) fn decode_scalar(&self, raw: &[u8]) -> Result<Value, String> {
        if raw.len() != self.itemsize {
            return Err(format!(
                "scalar of dtype {} has {} bytes, expected {}",
                self.describe(),
                raw.len(),
                self.itemsize
            ));
        }
        let word = |raw: &[u8]| -> u64 {
            let mut v = 0u64;
            if self.big_endian {
                for &b in raw {
                    v = (v << 8) | u64::from(b);
                }
            } else {
                for &b in raw.iter().rev() {
                    v = (v << 8) | u64::from(b);
                }
            }
            v
        };
        Ok(match self.kind {
            DtypeKind::Bool => Value::Bool(raw[0] != 0),
            DtypeKind::UInt => {
                Value::Int(i64::try_from(word(raw)).map_err(|_| "uint64 scalar too large")?)
            }
            DtypeKind::Int => {
                let bits = 8 * self.itemsize as u32;
                let v = word(raw);
                let shifted = (v << (64 - bits)) as i64;
                Value::Int(shifted >> (64 - bits))
            }
            DtypeKind::Float => {
                let v = word(raw);
                if self.itemsize == 4 {
                    Value::Float(f64::from(f32::from_bits(v as u32)))
                } else {
                    Value::Float(f64::from_bits(v))
                }
            }
            DtypeKind::Unicode => {
                let mut s = String::with_capacity(raw.len() / 4);
                for ch in raw.chunks_exact(4) {
                    let code = word(ch) as u32;
                    if code == 0 {
                        break;
                    }
                    s.push(char::from_u32(code).ok_or("invalid UCS-4 character")?);
                }
                Value::Str(s.into())
            }
            DtypeKind::Bytes => {
                let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
                Value::Bytes(raw[..end].into())
            }
        })
    }
}

/// A numpy array being reconstructed: after `BUILD` it has a dtype and data.
#[derive(Debug, Clone, Default)]
pub(crate) struct NdArray {
    pub(crate) shape: Vec<usize>,
    pub(crate) dtype: Option<Dtype>,
    pub(crate) fortran: bool,
    pub(crate) data: Option<Rc<[u8]>>,
}

impl NdArray {
    /// Applies the `BUILD` state `(version, shape, dtype, is_fortran, raw)`
    /// (the version is absent in very old pickles).
    pub(crate) fn set_state(&mut self, state: &Value) -> Result<(), String> {
        let items = match state {
            Value::Tuple(t, _) => t.clone(),
            other => {
                return Err(format!(
                    "ndarray state is a {}, expected a tuple",
                    other.type_name()
                ));
            }
        };
        let items: &[Value] = match items.len() {
            5 => &items[1..],
            4 => &items[..],
            n => return Err(format!("ndarray state has {n} items, expected 4 or 5")),
        };
        let shape = parse_shape(&items[0])?;
        let dtype = match &items[1] {
            Value::Dtype(d) => d.borrow().clone(),
            other => return Err(format!("ndarray dtype is a {}", other.type_name())),
        };
        let fortran = match &items[2] {
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            other => return Err(format!("ndarray order flag is a {}", other.type_name())),
        };
        let data: Rc<[u8]> = match &items[3] {
            Value::Bytes(b) => b.clone(),
            Value::Str(s) => s.chars().map(|c| c as u8).collect::<Vec<_>>().into(),
            Value::List(_) => return Err("object arrays are not supported".into()),
            other => return Err(format!("ndarray data is a {}", other.type_name())),
        };
        let arr = NdArray::new(shape, dtype, fortran, data)?;
        *self = arr;
        Ok(())
    }

    /// A fully built array, checking that the byte count fits the shape.
    pub(crate) fn new(
        shape: Vec<usize>,
        dtype: Dtype,
        fortran: bool,
        data: Rc<[u8]>,
    ) -> Result<NdArray, String> {
        let count = shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or("array shape overflows")?;
        let expected = count
            .checked_mul(dtype.itemsize)
            .ok_or("array size overflows")?;
        if expected != data.len() {
            return Err(format!(
                "array of shape {shape:?} and dtype {} needs {expected} bytes, has {}",
                dtype.describe(),
                data.len()
            ));
        }
        Ok(NdArray {
            shape,
            dtype: Some(dtype),
            fortran,
            data: Some(data),
        })
    }
}

impl NdArray {
    /// The elements of a 1-D array as scalar values (ints, floats, text),
    /// for labels or file names stored as numpy arrays.
    pub(crate) fn items(&self) -> Result<Vec<Value>, String> {
        let (Some(dtype), Some(data)) = (&self.dtype, &self.data) else {
            return Err("unfinished numpy array".into());
        };
        if self.shape.len() != 1 {
            return Err(format!("array of shape {:?}, expected 1-D", self.shape));
        }
        if dtype.itemsize == 0 {
            return Ok(vec![Value::Str("".into()); self.shape[0]]);
        }
        data.chunks_exact(dtype.itemsize)
            .map(|c| dtype.decode_scalar(c))
            .collect()
    }
}

/// Reads a shape tuple of non-negative ints.
pub(crate) fn parse_shape(v: &Value) -> Result<Vec<usize>, String> {
    let items = v
        .sequence()
        .ok_or_else(|| format!("array shape is a {}, expected a tuple", v.type_name()))?;
    items
        .iter()
        .map(|d| {
            d.as_int()
                .and_then(|i| usize::try_from(i).ok())
                .ok_or_else(|| "array shape has a negative or non-integer dimension".to_string())
        })
        .collect()
}
