//! The raster charts: pixels where they should be, valid PNG files.

use fanaroff_calibrate::plot::{Canvas, Chart, Color, Legend, LineChart, font};
use fanaroff_calibrate::{Binning, Error, reliability_diagram, uncertainty_diagram};
use ndarray::array;
use std::path::{Path, PathBuf};

fn out(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("calibrate_plots");
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn canvas_primitives() {
    let mut c = Canvas::new(20, 10, Color::WHITE);
    c.line(0, 0, 19, 9, 1, Color::BLACK);
    assert_eq!(c.get(0, 0), Some(Color::BLACK));
    assert_eq!(c.get(19, 9), Some(Color::BLACK));
    assert_eq!(c.get(19, 0), Some(Color::WHITE));
    c.set_clip(Some((0, 0, 4, 4)));
    c.fill_rect(0, 0, 20, 10, Color::RED);
    c.set_clip(None);
    assert_eq!(c.get(4, 4), Some(Color::RED));
    assert_eq!(c.get(5, 0), Some(Color::WHITE)); // outside the clip: untouched
    assert_ne!(c.get(10, 8), Some(Color::RED));
    // Drawing off the canvas is ignored, not a panic.
    c.line(-50, -50, 100, 100, 3, Color::BLUE);
    assert_eq!(c.get(100, 100), None);
    // Text: the glyph for '1' has its stem in column 2 of the 5 columns.
    let mut t = Canvas::new(10, 10, Color::WHITE);
    t.text(0, 0, "1", 1, Color::BLACK);
    assert_eq!(t.get(2, 3), Some(Color::BLACK));
    assert_eq!(t.get(0, 3), Some(Color::WHITE));
    assert_eq!(font::text_width("abc", 2), (3 * 6 - 1) * 2);
}

#[test]
fn line_chart_with_log_axis() {
    let t = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0];
    let err = [0.16, 0.14, 0.13, 0.128, 0.135, 0.17];
    let uce = [0.05, 0.04, 0.035, 0.03, 0.045, 0.08];
    let path = out("temperature_sweep.png");
    LineChart::new("test error vs posterior temperature")
        .x_log(true)
        .x_label("temperature T")
        .y_label("error / UCE")
        .series("test error", &t, &err)
        .series("UCE", &t, &uce)
        .legend(Legend::TopRight)
        .write_png(&path)
        .unwrap();
    let (w, h, px) = decode(&path);
    assert_eq!((w, h), (720, 540));
    // Both palette colours appear.
    let has = |c: Color| px.chunks(3).any(|p| p == [c.0, c.1, c.2]);
    assert!(has(Color::BLUE) && has(Color::ORANGE));
    // Mismatched series lengths are an error, not a panic.
    let e = Chart::new("x")
        .series("bad", &[1.0, 2.0], &[1.0])
        .render()
        .unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }));
    // A log axis with a fixed non-positive range is rejected.
    assert!(
        Chart::new("x")
            .x_log(true)
            .x_range(0.0, 1.0)
            .series("a", &[1.0], &[1.0])
            .render()
            .is_err()
    );
}

#[test]
fn reliability_pngs() {
    let p = array![
        [0.95, 0.05],
        [0.85, 0.15],
        [0.75, 0.25],
        [0.65, 0.35],
        [0.55, 0.45],
        [0.2, 0.8],
        [0.1, 0.9],
        [0.3, 0.7]
    ];
    let y = [0, 0, 1, 0, 1, 1, 0, 1];
    let b = Binning::new(10).unwrap();
    let d = reliability_diagram(p.view(), &y, b).unwrap();
    let path = out("reliability.png");
    d.write_png(&path).unwrap();
    let (w, h, px) = decode(&path);
    assert_eq!((w, h), (720, 540));
    // The red bin-mean dots are drawn.
    assert!(px.chunks(3).any(|q| q == [214, 39, 40]));
    let u = uncertainty_diagram(p.view(), &y, b).unwrap();
    u.write_png(out("uncertainty.png")).unwrap();
    // Unwritable path: an I/O error naming the path.
    let e = d.write_png("/nonexistent-dir/x.png").unwrap_err();
    assert!(matches!(e, Error::Io { .. }) && e.to_string().contains("/nonexistent-dir/x.png"));
}

#[test]
fn far_away_data_is_clipped_cheaply() {
    // A bar and a line that run far outside a fixed range must neither panic
    // nor take long (rectangles are intersected with the image first).
    let start = std::time::Instant::now();
    let c = Chart::new("clip")
        .x_range(0.0, 1.0)
        .y_range(0.0, 1.0)
        .bars("huge", &[-500.0], &[500.0], &[900.0], Color::BLUE)
        .line("far", &[-900.0, 900.0], &[-900.0, 900.0], Color::RED)
        .render()
        .unwrap();
    assert!(start.elapsed().as_secs_f64() < 2.0);
    // Outside the plot frame (the title area) nothing of the bar is drawn.
    assert_eq!(c.get(5, 5), Some(Color::WHITE));
}
