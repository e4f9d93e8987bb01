//! Source metadata parsed from MiraBest file names.

use std::path::Path;

use super::label::LabelCode;

/// Catalogue information encoded in a MiraBest/FIRST file name.
///
/// Two naming schemes exist:
///
/// ```text
/// full release, FITS cut-outs:  CODE_RA±DEC_z_size        200_172.397+002.292_0.1264_0019.10
/// basic release:                CODE_RA_±DEC              100_159.613_+041.815
/// ```
///
/// RA and Dec are J2000 degrees, `z` the redshift and `size` the largest
/// angular size in arcseconds (absent from basic-release names).
///
/// # Example
/// ```
/// use fanaroff_data::SourceName;
/// let s = SourceName::parse("./MiraBest_data/200_172.397+002.292_0.1264_0019.10.png")?;
/// assert_eq!(s.code.value(), 200);
/// assert_eq!(s.dec_deg, 2.292);
/// assert_eq!(s.redshift, Some(0.1264));
/// assert_eq!(s.stem, "200_172.397+002.292_0.1264_0019.10");
/// # Ok::<(), fanaroff_data::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SourceName {
    /// File name without folder and extension; identifies the source.
    pub stem: String,
    /// Label code given by the first field.
    pub code: LabelCode,
    /// Right ascension in degrees.
    pub ra_deg: f64,
    /// Declination in degrees.
    pub dec_deg: f64,
    /// Redshift, when the name carries it.
    pub redshift: Option<f64>,
    /// Largest angular size in arcseconds, when the name carries it.
    pub size_arcsec: Option<f64>,
}

impl SourceName {
    /// Parses a file name (any folder prefix and extension are ignored).
    ///
    /// # Errors
    /// [`crate::Error::Format`] naming the file when it does not follow
    /// either scheme.
    pub fn parse(filename: &str) -> crate::Result<Self> {
        let bad =
            |why: &str| crate::Error::format(filename, format!("cannot parse source name: {why}"));
        let base = Path::new(filename)
            .file_name()
            .and_then(|s| s.to_str())
            .ok_or_else(|| bad("no file name"))?;
        let stem = match base.rfind('.') {
            // Only strip a real extension, not the decimals of a number.
            Some(i)
                if base[i + 1..].chars().all(|c| c.is_ascii_alphabetic()) && i + 1 < base.len() =>
            {
                &base[..i]
            }
            _ => base,
        };
        let fields: Vec<&str> = stem.split('_').collect();
        let code: LabelCode = fields
            .first()
            .ok_or_else(|| bad("empty"))?
            .parse()
            .map_err(|_| bad("first field is not a label code"))?;
        let num = |s: &str| -> crate::Result<f64> {
            let v: f64 = s
                .parse()
                .map_err(|_| bad(&format!("{s:?} is not a number")))?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err(bad("non-finite number"))
            }
        };
        let (ra, dec, z, size) = match fields.len() {
            3 => (num(fields[1])?, num(fields[2])?, None, None),
            4 => {
                let (ra, dec) = split_ra_dec(fields[1]).ok_or_else(|| bad("RA/Dec field"))?;
                (
                    num(ra)?,
                    num(dec)?,
                    Some(num(fields[2])?),
                    Some(num(fields[3])?),
                )
            }
            _ => return Err(bad("expected CODE_RA±DEC_z_size or CODE_RA_±DEC")),
        };
        if !(0.0..360.0).contains(&ra) || !(-90.0..=90.0).contains(&dec) {
            return Err(bad("RA/Dec out of range"));
        }
        Ok(SourceName {
            stem: stem.to_string(),
            code,
            ra_deg: ra,
            dec_deg: dec,
            redshift: z,
            size_arcsec: size,
        })
    }
}

/// Splits `172.397+002.292` into `("172.397", "+002.292")`.
fn split_ra_dec(s: &str) -> Option<(&str, &str)> {
    let i = s.get(1..)?.find(['+', '-'])? + 1;
    Some((&s[..i], &s[i..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_schemes() {
        let s = SourceName::parse("BestCat_proc/Cropped/100_159.613_+041.815.png").unwrap();
        assert_eq!(s.code.value(), 100);
        assert_eq!(s.ra_deg, 159.613);
        assert_eq!(s.dec_deg, 41.815);
        assert_eq!(s.redshift, None);
        let s = SourceName::parse("210_348.925-000.435_0.0910_0050.37.fits").unwrap();
        assert_eq!(s.dec_deg, -0.435);
        assert_eq!(s.size_arcsec, Some(50.37));
        assert_eq!(s.stem, "210_348.925-000.435_0.0910_0050.37");
        assert!(SourceName::parse("cat.png").is_err());
        assert!(SourceName::parse("100_abc_def.png").is_err());
    }
}
