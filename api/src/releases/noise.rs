//! Noise from OpenDP's discrete Laplace mechanism, with OpenDP's own secure sampler: never a
//! floating-point Laplace (ACCESS.md §7.3).

use opendp::{
    domains::{AtomDomain, VectorDomain},
    measurements::make_laplace,
    measures::MaxDivergence,
    metrics::L1Distance,
};

use crate::error::{ApiError, ApiResult};

/// Says in words how counts were protected, for `StatisticsRelease.method`.
pub fn describe(k: u64) -> String {
    format!(
        "OpenDP {} discrete Laplace (make_laplace over integer counts, scale = sensitivity / ε per table); \
         then negative counts shown as 0 and counts below k = {k} suppressed",
        OPENDP_VERSION
    )
}

/// The OpenDP release this hub links (kept in step with `Cargo.toml`).
pub const OPENDP_VERSION: &str = "0.16";

/// Adds discrete Laplace noise of `scale` to every count, and returns the noisy counts with the ε
/// the mechanism spends on a table where one person moves the counts by at most `sensitivity`
/// in total (OpenDP's own privacy map, so the figure is the library's, not ours).
pub fn add(counts: &[i64], scale: f64, sensitivity: u32) -> ApiResult<(Vec<i64>, f64)> {
    let mechanism = make_laplace::<_, _, MaxDivergence>(
        VectorDomain::new(AtomDomain::<i64>::default()),
        L1Distance::<i64>::default(),
        scale,
        None,
    )
    .map_err(opendp_error)?;
    let epsilon = mechanism
        .map(&i64::from(sensitivity))
        .map_err(opendp_error)?;
    let noisy = mechanism.invoke(&counts.to_vec()).map_err(opendp_error)?;
    Ok((noisy, epsilon))
}

fn opendp_error(e: opendp::error::Error) -> ApiError {
    ApiError::Internal(format!("the noise mechanism failed: {e}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spends_sensitivity_over_scale() {
        let (noisy, eps) = add(&[10, 0, 5], 4.0, 1).expect("noise");
        assert_eq!(noisy.len(), 3);
        assert!((eps - 0.25).abs() < 1e-9, "{eps}");
        let (_, eps) = add(&[10], 8.0, 2).expect("noise");
        assert!((eps - 0.25).abs() < 1e-9, "{eps}");
    }

    #[test]
    fn noise_is_centred_and_about_as_wide_as_the_scale() {
        // 4,000 draws at scale 4: mean near 0, mean absolute deviation near 4 (a discrete
        // Laplace's is a little below its continuous twin's). Loose bounds: this checks the
        // mechanism is wired, not the library's sampler.
        let counts = vec![100i64; 4000];
        let (noisy, _) = add(&counts, 4.0, 1).expect("noise");
        let dev: Vec<f64> = noisy.iter().map(|n| (n - 100) as f64).collect();
        let mean = dev.iter().sum::<f64>() / dev.len() as f64;
        let mad = dev.iter().map(|d| d.abs()).sum::<f64>() / dev.len() as f64;
        assert!(mean.abs() < 0.6, "mean {mean}");
        assert!((3.0..5.0).contains(&mad), "mean absolute deviation {mad}");
        assert!(dev.iter().any(|d| *d != 0.0));
    }
}
