//! The gradient checker must fail on a wrong backward rule, or it proves nothing.

use fanaroff_tensor::gradcheck::{GradCheck, check_gradients};
use fanaroff_tensor::{Backward, Tensor};
use ndarray::{ArrayD, IxDyn};

/// y = x^2 with a selectable (possibly wrong) derivative.
struct Square {
    factor: f32,
    sign: f32,
}

impl Backward for Square {
    fn name(&self) -> &'static str {
        "test_square"
    }
    fn backward(
        &self,
        grad: &ArrayD<f32>,
        parents: &[Tensor],
        _: &ArrayD<f32>,
    ) -> Vec<Option<ArrayD<f32>>> {
        let x = parents[0].data();
        vec![Some(grad * &x.mapv(|v| self.sign * self.factor * v))]
    }
}

fn square(x: &Tensor, factor: f32, sign: f32) -> Tensor {
    Tensor::custom_op(
        x.data().mapv(|v| v * v),
        std::slice::from_ref(x),
        Box::new(Square { factor, sign }),
    )
}

fn input() -> ArrayD<f32> {
    ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![0.3, -1.2, 2.0, 0.7, -0.4, 1.5]).unwrap()
}

#[test]
fn correct_rule_passes() {
    let r = check_gradients(
        |t| Ok(square(&t[0], 2.0, 1.0)),
        &[input()],
        &GradCheck::default(),
    )
    .unwrap();
    assert!(r.passed(), "{r:?}");
}

#[test]
fn missing_factor_fails() {
    let r = check_gradients(
        |t| Ok(square(&t[0], 1.0, 1.0)),
        &[input()],
        &GradCheck::default(),
    )
    .unwrap();
    assert!(!r.passed());
    assert_eq!(r.mismatches.len(), 6);
}

#[test]
fn wrong_sign_fails() {
    let r = check_gradients(
        |t| Ok(square(&t[0], 2.0, -1.0)),
        &[input()],
        &GradCheck::default(),
    )
    .unwrap();
    assert!(!r.passed());
}

#[test]
fn slightly_wrong_factor_fails() {
    // 5 % off is still caught at the default tolerance.
    let r = check_gradients(
        |t| Ok(square(&t[0], 2.1, 1.0)),
        &[input()],
        &GradCheck::default(),
    )
    .unwrap();
    assert!(!r.passed());
}
