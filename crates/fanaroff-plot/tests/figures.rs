//! Every figure kind written as PNG and SVG, and the errors users hit.

use fanaroff_calibrate::{Binning, accuracy_rejection, reliability_diagram, uncertainty_diagram};
use fanaroff_plot::{
    Color, Error, Figure, Heatmap, History, ImageGrid, LineChart, rejection, reliability,
};
use ndarray::{Array2, array};
use std::path::PathBuf;

fn out(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("fanaroff-plot-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// Decodes a PNG file: (width, height, RGB bytes).
fn decode(path: &PathBuf) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = dec.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Pixels within 2 levels of `c` in every channel.
fn count(rgb: &[u8], c: Color) -> usize {
    let near = |a: u8, b: u8| a.abs_diff(b) <= 2;
    rgb.chunks(3)
        .filter(|p| near(p[0], c.0) && near(p[1], c.1) && near(p[2], c.2))
        .count()
}

#[test]
fn a_line_chart_is_a_png_of_its_size_with_its_line_colour_and_an_svg_with_its_text() {
    let chart = LineChart::new("error vs temperature")
        .size(640, 400)
        .x_log(true)
        .x_label("T")
        .line(
            "BBB",
            &[1e-3, 1e-2, 1e-1, 1.0],
            &[0.2, 0.1, 0.12, 0.3],
            Color::RED,
        );
    let png = chart.save(out("line.png")).unwrap();
    let (w, h, rgb) = decode(&png);
    assert_eq!((w, h), (640, 400));
    assert!(count(&rgb, Color::RED) > 200, "the red line is drawn");
    assert!(count(&rgb, Color::BLACK) > 100, "text and axes are drawn");
    let svg = std::fs::read_to_string(chart.save(out("line.svg")).unwrap()).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("error vs temperature") && svg.contains("BBB"));
    assert!(
        svg.contains("0.01"),
        "log ticks are labelled as values: {}",
        &svg[..200]
    );
}

#[test]
fn reliability_and_uce_diagrams_draw_bars_dots_and_their_error_in_the_title() {
    let probs = array![
        [0.95, 0.05],
        [0.1, 0.9],
        [0.85, 0.15],
        [0.3, 0.7],
        [0.65, 0.35],
        [0.4, 0.6]
    ];
    let labels = [0, 1, 1, 1, 1, 1];
    let d = reliability_diagram(probs.view(), &labels, Binning::new(5).unwrap()).unwrap();
    let chart = reliability(&d);
    let (w, h, rgb) = decode(&chart.save(out("rel.png")).unwrap());
    assert_eq!((w, h), chart.dimensions());
    assert!(count(&rgb, Color::RED) > 20, "bin means are drawn");
    assert!(
        count(&rgb, Color::BLUE.mix(Color::WHITE, 0.55)) > 500,
        "bars are drawn"
    );
    let svg = chart.to_svg().unwrap();
    assert!(svg.contains(&format!("ECE = {:.4}", d.calibration_error)));
    let u = uncertainty_diagram(probs.view(), &labels, Binning::new(4).unwrap()).unwrap();
    assert!(reliability(&u).to_svg().unwrap().contains("UCE"));
}

#[test]
fn rejection_and_training_curves_name_their_series() {
    let c = accuracy_rejection(
        &[0.9, 0.1, 0.8, 0.2],
        &[false, true, false, true],
        &[0.0, 0.25, 0.5],
    )
    .unwrap();
    let svg = rejection(&c, "entropy")
        .series("random", &[0.0, 0.5], &[0.5, 0.5])
        .to_svg()
        .unwrap();
    assert!(svg.contains("entropy") && svg.contains("random"));
    let path = out("history.csv");
    std::fs::write(
        &path,
        "epoch,train_loss,val_nll,seconds\n1,0.9,0.8,3\n2,0.6,nan,3\n3,0.4,0.5,3\n",
    )
    .unwrap();
    let h = History::read(&path).unwrap();
    assert_eq!(h.column("val_nll").unwrap()[0], 0.8);
    assert!(h.column("val_nll").unwrap()[1].is_nan());
    let chart = h.chart("loss", &["train_loss", "val_nll"]).unwrap();
    assert!(chart.to_svg().unwrap().contains("epoch"));
    let e = h.chart("loss", &["val_acc"]).unwrap_err();
    assert!(
        e.to_string().contains("val_acc") && e.to_string().contains("train_loss"),
        "{e}"
    );
}

#[test]
fn image_grids_overlay_maps_and_embed_images_in_svg() {
    let img = Array2::from_shape_fn((20, 30), |(r, c)| (r + c) as f32);
    let mut map = Array2::<f32>::zeros((20, 30));
    map[[10, 15]] = 1.0;
    let mut grid = ImageGrid::new(2).scale(2).title("attention");
    grid.push(img.view(), None).unwrap();
    grid.push_captioned(img.view(), Some(map.view()), "FRII")
        .unwrap();
    grid.push(img.view(), Some(map.view())).unwrap();
    let (w, h) = grid.dimensions();
    assert_eq!(w, 6 + 2 * (60 + 6));
    let (pw, ph, rgb) = decode(&grid.save(out("grid.png")).unwrap());
    assert_eq!((pw, ph), (w, h));
    // the attended pixel (grey 25/48) turns yellow: 0.25 * grey + 0.75 in red and green
    let g = 25.0 / 48.0 * 0.25;
    let v = ((g + 0.75) * 255.0f32).round() as u8;
    let b = (g * 255.0f32).round() as u8;
    let yellow = count(&rgb, Color(v, v, b));
    assert!(yellow >= 8, "two overlaid tiles x 2x2 block: {yellow}");
    let svg = grid.to_svg().unwrap();
    assert!(svg.contains("<image") && svg.contains("FRII"));
    assert!(svg.contains("href=\"data:image/png;base64,") && !svg.contains("data:png"));
    let bad = Array2::<f32>::zeros((5, 5));
    assert!(matches!(
        grid.push(bad.view(), None),
        Err(Error::InvalidInput(_))
    ));
    assert!(grid.push(img.view(), Some(bad.view())).is_err());
    assert!(
        ImageGrid::new(3).to_svg().is_err(),
        "an empty grid is an error"
    );
}

#[test]
fn heatmaps_write_each_value_and_grey_out_missing_runs() {
    let v = array![[0.14, 0.125], [0.5, f64::NAN]];
    let hm = Heatmap::new("test error", v, &["a", "b"], &["x", "y"])
        .unwrap()
        .labels("T", "prior");
    let svg = hm.to_svg().unwrap();
    for s in ["0.14", "0.125", "0.5", "-", "prior"] {
        assert!(svg.contains(s), "{s} missing");
    }
    let (_, _, rgb) = decode(&hm.save(out("heat.png")).unwrap());
    assert!(count(&rgb, Color::GREY) > 500, "the NaN cell is grey");
    assert!(Heatmap::new("t", Array2::zeros((2, 2)), &["a"], &["x", "y"]).is_err());
}

#[test]
fn bad_paths_and_shapes_are_clear_errors() {
    let chart = LineChart::new("t").series("a", &[1.0, 2.0], &[1.0]);
    assert!(matches!(chart.to_svg(), Err(Error::InvalidInput(m)) if m.contains("2 x values")));
    let ok = LineChart::new("t").series("a", &[1.0], &[1.0]);
    assert!(matches!(
        ok.save(out("x.jpg")),
        Err(Error::UnknownFormat(_))
    ));
    let e = ok.save("/nonexistent-dir/x.png").unwrap_err();
    assert!(e.to_string().contains("/nonexistent-dir/x.png"), "{e}");
    let both = ok.save_both(out("both")).unwrap();
    assert!(both.iter().all(|p| p.exists()));
}
