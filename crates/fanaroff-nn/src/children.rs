//! [`children!`](crate::children): a container names its children once.

/// Writes [`Module::visit_children`](crate::Module::visit_children) and
/// [`Module::visit_children_mut`](crate::Module::visit_children_mut) for a
/// container whose children are fields, each named once and registered
/// under its field name (`fc` becomes `<prefix>.fc`). Every other method
/// of [`Module`](crate::Module) then recurses into them by default, so a
/// container writes `forward` and this line.
///
/// Containers whose children are computed (a `Vec` of layers with
/// generated names) write the two visitors by hand.
///
/// ```
/// use fanaroff_nn::{Linear, LinearConfig, Module, ModuleExt, Pass, Result, children};
/// use fanaroff_tensor::Tensor;
/// use rand::{SeedableRng, rngs::StdRng};
///
/// struct Residual { fc: Linear, out: Linear }
///
/// impl Module for Residual {
///     fn forward(&self, x: &Tensor, pass: &mut Pass) -> Result<Tensor> {
///         let h = self.fc.forward(x, pass)?.relu().add(x)?;
///         self.out.forward(&h, pass)
///     }
///     children!(fc, out);
/// }
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let m = Residual {
///     fc: Linear::new(LinearConfig::new(4, 4), &mut rng)?,
///     out: Linear::new(LinearConfig::new(4, 2), &mut rng)?,
/// };
/// let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["fc.weight", "fc.bias", "out.weight", "out.bias"]);
/// # Ok::<(), fanaroff_nn::Error>(())
/// ```
#[macro_export]
macro_rules! children {
    ($($field:ident),+ $(,)?) => {
        fn visit_children(
            &self,
            prefix: &str,
            f: &mut dyn FnMut(&str, &dyn $crate::Module),
        ) {
            $( f(&$crate::join(prefix, stringify!($field)), &self.$field); )+
        }
        fn visit_children_mut(
            &mut self,
            prefix: &str,
            f: &mut dyn FnMut(&str, &mut dyn $crate::Module),
        ) {
            $( f(&$crate::join(prefix, stringify!($field)), &mut self.$field); )+
        }
    };
}
