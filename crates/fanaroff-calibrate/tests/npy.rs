//! The `.npy` reader against files written by NumPy 2 (`np.save`), stored
//! here as hex, and the writer against NumPy's exact bytes.

use fanaroff_calibrate::npy::{NpyData, parse_npy, read_npy, write_npy_f64, write_npy_i64};
use std::path::Path;

fn bytes(parts: &[&str]) -> Vec<u8> {
    let hex: String = parts.concat();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// `np.save(f, np.array([[0.75, 0.25], [0.125, 0.875]], dtype=np.float32))`
const F4: &[&str] = &[
    "934e554d5059010076007b276465736372273a20273c6634272c2027666f7274",
    "72616e5f6f72646572273a2046616c73652c20277368617065273a2028322c20",
    "32292c207d202020202020202020202020202020202020202020202020202020",
    "202020202020202020202020202020202020202020202020202020202020200a",
    "0000403f0000803e0000003e0000603f",
];

/// `np.save(f, np.array([0, 1, 1], dtype=np.int64))`
const I8: &[&str] = &[
    "934e554d5059010076007b276465736372273a20273c6938272c2027666f7274",
    "72616e5f6f72646572273a2046616c73652c20277368617065273a2028332c29",
    "2c207d2020202020202020202020202020202020202020202020202020202020",
    "202020202020202020202020202020202020202020202020202020202020200a",
    "000000000000000001000000000000000100000000000000",
];

/// `np.save(f, np.array([2, 0], dtype=np.uint8))`
const U1: &[&str] = &[
    "934e554d5059010076007b276465736372273a20277c7531272c2027666f7274",
    "72616e5f6f72646572273a2046616c73652c20277368617065273a2028322c29",
    "2c207d2020202020202020202020202020202020202020202020202020202020",
    "202020202020202020202020202020202020202020202020202020202020200a",
    "0200",
];

/// `np.lib.format.write_array(f, np.array([1.5, 2.5]), version=(2, 0))`
const V2: &[&str] = &[
    "934e554d50590200740000007b276465736372273a20273c6638272c2027666f",
    "727472616e5f6f72646572273a2046616c73652c20277368617065273a202832",
    "2c292c207d202020202020202020202020202020202020202020202020202020",
    "202020202020202020202020202020202020202020202020202020202020200a",
    "000000000000f83f0000000000000440",
];

#[test]
fn reads_numpy_files() {
    let a = parse_npy(&bytes(F4)).unwrap();
    assert_eq!(a.shape, vec![2, 2]);
    assert_eq!(a.descr, "<f4");
    assert_eq!(a.data, NpyData::Float(vec![0.75, 0.25, 0.125, 0.875]));
    let a = parse_npy(&bytes(I8)).unwrap();
    assert_eq!(
        (a.shape.clone(), a.data),
        (vec![3], NpyData::Int(vec![0, 1, 1]))
    );
    let a = parse_npy(&bytes(U1)).unwrap();
    assert_eq!(
        (a.shape.clone(), a.data),
        (vec![2], NpyData::Int(vec![2, 0]))
    );
    let a = parse_npy(&bytes(V2)).unwrap();
    assert_eq!(
        (a.shape.clone(), a.data),
        (vec![2], NpyData::Float(vec![1.5, 2.5]))
    );
}

#[test]
fn writes_what_numpy_writes() {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("calibrate_npy");
    std::fs::create_dir_all(&d).unwrap();
    write_npy_i64(d.join("i8.npy"), &[3], &[0, 1, 1]).unwrap();
    assert_eq!(std::fs::read(d.join("i8.npy")).unwrap(), bytes(I8));
    // Round trip of a 3-D f64 array; the header is padded to 64 bytes.
    let v: Vec<f64> = (0..12).map(|i| i as f64 / 11.0).collect();
    write_npy_f64(d.join("s.npy"), &[2, 3, 2], &v).unwrap();
    let raw = std::fs::read(d.join("s.npy")).unwrap();
    assert_eq!((raw.len() - 12 * 8) % 64, 0);
    let a = read_npy(d.join("s.npy")).unwrap();
    assert_eq!((a.shape, a.data), (vec![2, 3, 2], NpyData::Float(v)));
    // Shape and data must agree.
    assert!(write_npy_f64(d.join("bad.npy"), &[2, 2], &[1.0]).is_err());
}
