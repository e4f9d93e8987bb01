//! PNG grids of attention overlays.

use fanaroff_attention::OverlayGrid;
use ndarray::Array2;

#[test]
fn grid_size_colours_and_errors() {
    let img = Array2::from_shape_fn((4, 4), |(y, x)| (y * 4 + x) as f32);
    let map = Array2::from_shape_fn((4, 4), |(y, _)| if y == 0 { 1.0 } else { 0.0 });
    let mut g = OverlayGrid::new(2);
    assert!(g.write_png(std::env::temp_dir().join("empty.png")).is_err());
    g.push(img.view(), None).unwrap();
    g.push(img.view(), Some(map.view())).unwrap();
    g.push(img.view(), Some(map.view())).unwrap();
    assert!(
        g.push(img.view(), Some(Array2::zeros((3, 3)).view()))
            .is_err()
    );
    assert!(g.push(Array2::zeros((5, 5)).view(), None).is_err());
    let path = std::env::temp_dir().join(format!("fanaroff-overlay-{}.png", std::process::id()));
    g.write_png(&path).unwrap();
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    // 2 columns and 2 rows of 4 px tiles with 2 px gaps
    assert_eq!((info.width, info.height), (10, 10));
    let px = |x: usize, y: usize| &buf[3 * (y * 10 + x)..3 * (y * 10 + x) + 3];
    assert_eq!(
        px(0, 0),
        [0, 0, 0],
        "darkest pixel of a plain tile is black"
    );
    assert_eq!(px(3, 3), [255, 255, 255], "brightest is white");
    let hot = px(6, 0);
    assert!(
        hot[0] > hot[2],
        "attended row of an overlay is red-yellow: {hot:?}"
    );
    assert_eq!(px(4, 0), [255, 255, 255], "gap");
}
