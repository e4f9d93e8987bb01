//! A minimal FITS reader for the primary image HDU.

use std::path::Path;

use ndarray::Array2;

use crate::error::{Error, Result};

const BLOCK: usize = 2880;
const CARD: usize = 80;

/// The primary image of a FITS file and the header values used to read it.
#[derive(Debug, Clone)]
pub struct FitsImage {
    /// Pixels `[NAXIS2, NAXIS1]`: row 0 is the first row stored in the file.
    pub data: Array2<f32>,
    /// `BITPIX` of the file (−32 or −64).
    pub bitpix: i64,
    /// All header cards as `(keyword, raw value text)` in file order.
    pub header: Vec<(String, String)>,
}

impl FitsImage {
    /// A header value by keyword, with quotes and comments removed.
    pub fn header_value(&self, key: &str) -> Option<&str> {
        self.header
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn parse_card(card: &[u8]) -> (String, Option<String>) {
    let text: String = card
        .iter()
        .map(|&b| if b.is_ascii() { b as char } else { '?' })
        .collect();
    let key = text.get(..8).unwrap_or(&text).trim().to_string();
    if text.get(8..10) != Some("= ") {
        return (key, None);
    }
    let raw = text[10..].trim();
    let value = if let Some(rest) = raw.strip_prefix('\'') {
        // Quoted string: up to the closing quote ('' is an escaped quote).
        let mut out = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    out.push('\'');
                    chars.next();
                } else {
                    break;
                }
            } else {
                out.push(c);
            }
        }
        out.trim_end().to_string()
    } else {
        raw.split('/').next().unwrap_or("").trim().to_string()
    };
    (key, Some(value))
}

/// Reads the primary HDU of a FITS file as a 2-D `f32` image.
///
/// Accepts `BITPIX` −32 and −64 (big-endian IEEE floats; −64 is rounded to
/// `f32`), `NAXIS = 2` or more axes when all axes beyond the second have
/// length 1 (common for radio images), and applies `BSCALE`/`BZERO` when present.
///
/// # Errors
/// [`Error::NotFound`]/[`Error::Io`] if the file cannot be read;
/// [`Error::Fits`] naming the file if the header is malformed, the image is
/// not 2-D floating point, or the data are truncated.
pub fn read_fits(path: impl AsRef<Path>) -> Result<FitsImage> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(fanaroff_core::io(path))?;
    parse_fits(&bytes, &path.display().to_string())
}

/// Parses FITS bytes; `file` names them in errors. See [`read_fits`].
///
/// # Errors
/// As [`read_fits`].
pub fn parse_fits(bytes: &[u8], file: &str) -> Result<FitsImage> {
    let bad = |reason: String| Error::Fits {
        file: file.to_string(),
        reason,
    };
    if bytes.len() >= 9 && &bytes[..9] != b"SIMPLE  =" {
        return Err(bad("does not start with SIMPLE (not a FITS file)".into()));
    }
    let (header, pos) = read_header(bytes).map_err(bad)?;
    let cards = Cards(&header);
    if header.first().map(|(k, _)| k.as_str()) != Some("SIMPLE") {
        return Err(bad("does not start with SIMPLE (not a FITS file)".into()));
    }
    let (bitpix, w, h) = image_shape(&cards).map_err(bad)?;
    let item = if bitpix == -32 { 4 } else { 8 };
    let need = w
        .checked_mul(h)
        .and_then(|n| n.checked_mul(item))
        .ok_or_else(|| bad("image too large".into()))?;
    let data = bytes.get(pos..pos + need).ok_or_else(|| {
        bad(format!(
            "data truncated: need {need} bytes, file has {}",
            bytes.len() - pos
        ))
    })?;
    let bscale = cards.float("BSCALE", 1.0).map_err(bad)?;
    let bzero = cards.float("BZERO", 0.0).map_err(bad)?;
    let px = decode_pixels(data, bitpix, bscale, bzero);
    let data = Array2::from_shape_vec((h, w), px).map_err(|e| bad(format!("shape: {e}")))?;
    Ok(FitsImage {
        data,
        bitpix,
        header,
    })
}

/// The header's `(key, value)` cards up to `END`, and the offset of the
/// data (the first block after the header's last).
fn read_header(bytes: &[u8]) -> std::result::Result<(Vec<(String, String)>, usize), String> {
    let mut header = Vec::new();
    let mut pos = 0;
    loop {
        if pos + BLOCK > bytes.len() {
            return Err(if pos == 0 {
                format!(
                    "only {} bytes, not even one 2880-byte header block",
                    bytes.len()
                )
            } else {
                "header has no END card".into()
            });
        }
        let block = &bytes[pos..pos + BLOCK];
        pos += BLOCK;
        for card in block.chunks_exact(CARD) {
            match parse_card(card) {
                (key, _) if key == "END" => return Ok((header, pos)),
                (key, Some(v)) => header.push((key, v)),
                _ => {}
            }
        }
    }
}

/// Typed lookups in the header's cards (the first card of a key wins).
struct Cards<'a>(&'a [(String, String)]);

impl Cards<'_> {
    fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }

    fn int(&self, k: &str) -> std::result::Result<i64, String> {
        self.get(k)
            .ok_or_else(|| format!("missing {k}"))?
            .parse::<i64>()
            .map_err(|_| format!("{k} is not an integer"))
    }

    /// A number, or `default` when the card is absent.
    fn float(&self, k: &str, default: f64) -> std::result::Result<f64, String> {
        match self.get(k) {
            None => Ok(default),
            Some(v) => v.parse::<f64>().map_err(|_| format!("{k} is not a number")),
        }
    }
}

/// `BITPIX`, width and height of a floating-point image whose axes beyond
/// the second all have length 1.
fn image_shape(cards: &Cards) -> std::result::Result<(i64, usize, usize), String> {
    let bitpix = cards.int("BITPIX")?;
    if bitpix != -32 && bitpix != -64 {
        return Err(format!(
            "BITPIX = {bitpix}: expected a floating-point image (-32 or -64)"
        ));
    }
    let naxis = cards.int("NAXIS")?;
    if !(2..=999).contains(&naxis) {
        return Err(format!("NAXIS = {naxis}: expected a 2-D image"));
    }
    let mut dims = Vec::new();
    for i in 1..=naxis {
        let d = cards.int(&format!("NAXIS{i}"))?;
        let d = usize::try_from(d).map_err(|_| format!("NAXIS{i} = {d} is negative"))?;
        dims.push(d);
    }
    if dims[2..].iter().any(|&d| d != 1) {
        return Err(format!(
            "axes {dims:?}: expected a 2-D image (extra axes of length 1 only)"
        ));
    }
    let (w, h) = (dims[0], dims[1]);
    if w == 0 || h == 0 {
        return Err(format!("empty image {w} x {h}"));
    }
    Ok((bitpix, w, h))
}

/// Big-endian `f32` (`BITPIX` -32) or `f64` (-64, rounded to `f32`) pixels,
/// scaled by `BSCALE` and shifted by `BZERO` unless those are 1 and 0.
fn decode_pixels(data: &[u8], bitpix: i64, bscale: f64, bzero: f64) -> Vec<f32> {
    let mut px: Vec<f32> = if bitpix == -32 {
        data.chunks_exact(4)
            .map(|c| f32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        data.chunks_exact(8)
            .map(|c| {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                f64::from_be_bytes(a) as f32
            })
            .collect()
    };
    if bscale != 1.0 || bzero != 0.0 {
        for v in &mut px {
            *v = (f64::from(*v) * bscale + bzero) as f32;
        }
    }
    px
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cards: &[(&str, &str)]) -> Vec<u8> {
        let mut h = Vec::new();
        for (k, v) in cards {
            h.extend_from_slice(format!("{:<80}", format!("{k:<8}= {v:>20} / comment")).as_bytes());
        }
        h.extend_from_slice(format!("{:<80}", "END").as_bytes());
        h.resize(BLOCK, b' ');
        h
    }

    #[test]
    fn float64_with_scaling_and_degenerate_axes() {
        let mut b = header(&[
            ("SIMPLE", "T"),
            ("BITPIX", "-64"),
            ("NAXIS", "4"),
            ("NAXIS1", "3"),
            ("NAXIS2", "2"),
            ("NAXIS3", "1"),
            ("NAXIS4", "1"),
            ("BSCALE", "2.0"),
            ("BZERO", "1.0"),
            ("OBJECT", "'it''s'"),
        ]);
        for v in 0..6 {
            b.extend_from_slice(&(v as f64).to_be_bytes());
        }
        let img = parse_fits(&b, "t.fits").unwrap();
        assert_eq!(img.data.dim(), (2, 3));
        // value * BSCALE + BZERO; row 1, column 0 is the 4th stored value.
        assert_eq!(img.data[[1, 0]], 7.0);
        assert_eq!(img.header_value("OBJECT"), Some("it's"));
    }
}
