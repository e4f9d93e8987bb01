//! A small reader and writer for NumPy `.npy` files (format versions 1, 2
//! and 3), enough to exchange predictions and labels with Python.
//!
//! Supported: little-endian (or byte-order-free) numeric dtypes `<f8`, `<f4`,
//! `<i8`, `<i4`, `<i2`, `|i1`, `<u8`, `<u4`, `<u2`, `|u1`, `|b1`, in C order.
//! Anything else (big-endian, Fortran order, structured or object arrays)
//! is rejected with a message that says what was found.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

const MAGIC: &[u8] = b"\x93NUMPY";

/// Element values of a `.npy` array, widened to 64 bits.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    /// From a float dtype (`<f4`, `<f8`).
    Float(Vec<f64>),
    /// From an integer or boolean dtype.
    Int(Vec<i64>),
}

/// A `.npy` array: its shape, its dtype string and its values in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// Dimensions, outermost first (empty for a scalar).
    pub shape: Vec<usize>,
    /// The dtype descriptor from the header, e.g. `<f8`.
    pub descr: String,
    /// The values.
    pub data: NpyData,
}

impl NpyArray {
    /// Number of elements (product of the shape).
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// `true` if the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as `f64` (integers converted).
    pub fn to_f64(&self) -> Vec<f64> {
        match &self.data {
            NpyData::Float(v) => v.clone(),
            NpyData::Int(v) => v.iter().map(|&x| x as f64).collect(),
        }
    }
}

/// Read a `.npy` file.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read, [`Error::Npy`] if it is not a
/// supported `.npy` file (bad magic, unknown version, malformed header,
/// unsupported dtype, Fortran order, truncated data).
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(fanaroff_core::io(path))?;
    parse_npy(&bytes)
}

fn npy_err(reason: impl Into<String>) -> Error {
    Error::Npy {
        reason: reason.into(),
    }
}

/// Parse the bytes of a `.npy` file (see [`read_npy`]).
///
/// # Errors
/// As [`read_npy`].
pub fn parse_npy(bytes: &[u8]) -> Result<NpyArray> {
    let (header, end) = split_header(bytes)?;
    let descr = header_string(header, "descr")?;
    let fortran = header_value(header, "fortran_order")?;
    match fortran.trim() {
        "False" => {}
        "True" => {
            return Err(npy_err(
                "Fortran-order arrays are not supported; save with np.ascontiguousarray",
            ));
        }
        other => return Err(npy_err(format!("bad fortran_order value `{other}`"))),
    }
    let shape = header_shape(header)?;
    let data = decode_body(&bytes[end..], &shape, &descr)?;
    Ok(NpyArray { shape, descr, data })
}

/// The header text after the magic string and version, and where the data
/// starts.
fn split_header(bytes: &[u8]) -> Result<(&str, usize)> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(npy_err(
            "missing the \\x93NUMPY magic string; not a .npy file",
        ));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(npy_err("file ends inside the header length"));
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => {
            return Err(npy_err(format!(
                "unsupported format version {v}.{}",
                bytes[7]
            )));
        }
    };
    let end = start + header_len;
    if bytes.len() < end {
        return Err(npy_err("file ends inside the header"));
    }
    let header =
        std::str::from_utf8(&bytes[start..end]).map_err(|_| npy_err("header is not valid text"))?;
    Ok((header, end))
}

/// Decodes one element from its little-endian bytes.
type Decode = fn(&[u8]) -> Value;

/// Bytes per element and the decoder of one element for a dtype string.
fn element_decoder(descr: &str) -> Result<(usize, Decode)> {
    Ok(match descr {
        "<f8" => (8, |b| Value::F(f64::from_le_bytes(arr(b)))),
        "<f4" => (4, |b| Value::F(f32::from_le_bytes(arr(b)) as f64)),
        "<i8" => (8, |b| Value::I(i64::from_le_bytes(arr(b)))),
        "<i4" => (4, |b| Value::I(i32::from_le_bytes(arr(b)) as i64)),
        "<i2" => (2, |b| Value::I(i16::from_le_bytes(arr(b)) as i64)),
        "|i1" => (1, |b| Value::I(b[0] as i8 as i64)),
        "<u8" => (8, |b| {
            let v = u64::from_le_bytes(arr(b));
            i64::try_from(v).map_or(Value::TooBig(v), Value::I)
        }),
        "<u4" => (4, |b| Value::I(u32::from_le_bytes(arr(b)) as i64)),
        "<u2" => (2, |b| Value::I(u16::from_le_bytes(arr(b)) as i64)),
        "|u1" | "|b1" => (1, |b| Value::I(b[0] as i64)),
        d if d.starts_with('>') => {
            return Err(npy_err(format!(
                "big-endian dtype `{d}` is not supported; convert with arr.astype('<{}')",
                &d[1..]
            )));
        }
        d => {
            return Err(npy_err(format!(
                "unsupported dtype `{d}`; use float32/float64 or an integer type"
            )));
        }
    })
}

/// The elements of the data section, as floats or integers by dtype.
fn decode_body(body: &[u8], shape: &[usize], descr: &str) -> Result<NpyData> {
    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| npy_err(format!("shape {shape:?} is too large")))?;
    let (size, decode) = element_decoder(descr)?;
    let need = count
        .checked_mul(size)
        .ok_or_else(|| npy_err(format!("shape {shape:?} is too large")))?;
    if body.len() < need {
        return Err(npy_err(format!(
            "data truncated: shape {shape:?} of `{descr}` needs {need} bytes, found {}",
            body.len()
        )));
    }
    let mut floats = Vec::new();
    let mut ints = Vec::new();
    for chunk in body[..need].chunks_exact(size) {
        match decode(chunk) {
            Value::F(v) => floats.push(v),
            Value::I(v) => ints.push(v),
            Value::TooBig(v) => {
                return Err(npy_err(format!("uint64 value {v} does not fit in i64")));
            }
        }
    }
    Ok(if descr.starts_with("<f") {
        NpyData::Float(floats)
    } else {
        NpyData::Int(ints)
    })
}

enum Value {
    F(f64),
    I(i64),
    TooBig(u64),
}

fn arr<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[..N]);
    a
}

/// The text after `'key':` up to the next top-level comma or closing brace.
fn header_value<'a>(header: &'a str, key: &str) -> Result<&'a str> {
    let pat_single = format!("'{key}'");
    let pat_double = format!("\"{key}\"");
    let pos = header
        .find(&pat_single)
        .map(|p| p + pat_single.len())
        .or_else(|| header.find(&pat_double).map(|p| p + pat_double.len()))
        .ok_or_else(|| npy_err(format!("header has no `{key}` entry: {}", header.trim())))?;
    let rest = header[pos..].trim_start();
    let rest = rest
        .strip_prefix(':')
        .ok_or_else(|| npy_err(format!("expected `:` after `{key}` in the header")))?;
    let mut depth = 0i32;
    for (i, ch) in rest.char_indices() {
        match ch {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' | '}' if depth == 0 => return Ok(&rest[..i]),
            _ => {}
        }
    }
    Err(npy_err(format!("unterminated `{key}` entry in the header")))
}

fn header_string(header: &str, key: &str) -> Result<String> {
    let v = header_value(header, key)?.trim();
    let unquoted = v
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| v.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
        .ok_or_else(|| {
            npy_err(format!(
                "`{key}` is `{v}`, not a simple string (structured dtypes are not supported)"
            ))
        })?;
    Ok(unquoted.to_string())
}

fn header_shape(header: &str) -> Result<Vec<usize>> {
    let v = header_value(header, "shape")?.trim();
    let inner = v
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| npy_err(format!("shape `{v}` is not a tuple")))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('L')
                .parse::<usize>()
                .map_err(|_| npy_err(format!("bad dimension `{s}` in shape `{v}`")))
        })
        .collect()
}

fn header_bytes(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut dict =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // Pad so that magic (6) + version (2) + length (2) + header is a multiple of 64.
    let unpadded = 10 + dict.len() + 1;
    let pad = (64 - unpadded % 64) % 64;
    dict.push_str(&" ".repeat(pad));
    dict.push('\n');
    let mut out = Vec::with_capacity(10 + dict.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out
}

fn write_bytes(path: &Path, descr: &str, shape: &[usize], len: usize, body: &[u8]) -> Result<()> {
    let expected: usize = shape.iter().product();
    if expected != len {
        return Err(Error::shape(
            "npy data vs shape",
            format!("{expected} values for shape {shape:?}"),
            format!("{len} values"),
        ));
    }
    let mut file = std::fs::File::create(path).map_err(fanaroff_core::io(path))?;
    file.write_all(&header_bytes(descr, shape))
        .and_then(|_| file.write_all(body))
        .map_err(fanaroff_core::io(path))?;
    Ok(())
}

/// Write `f64` values in C order as a version-1.0 `.npy` file (`<f8`).
///
/// # Errors
/// [`Error::ShapeMismatch`] if `data.len()` is not the product of `shape`,
/// [`Error::Io`] if the file cannot be written.
pub fn write_npy_f64(path: impl AsRef<Path>, shape: &[usize], data: &[f64]) -> Result<()> {
    let body: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_bytes(path.as_ref(), "<f8", shape, data.len(), &body)
}

/// Write `f32` values in C order as a `.npy` file (`<f4`).
///
/// # Errors
/// As [`write_npy_f64`].
pub fn write_npy_f32(path: impl AsRef<Path>, shape: &[usize], data: &[f32]) -> Result<()> {
    let body: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_bytes(path.as_ref(), "<f4", shape, data.len(), &body)
}

/// Write `i64` values in C order as a `.npy` file (`<i8`), e.g. labels.
///
/// # Errors
/// As [`write_npy_f64`].
pub fn write_npy_i64(path: impl AsRef<Path>, shape: &[usize], data: &[i64]) -> Result<()> {
    let body: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    write_bytes(path.as_ref(), "<i8", shape, data.len(), &body)
}
