package dev.kiln.eval;

/**
 * The Fréchet distance between two Gaussians fitted to feature vectors (the FID formula):
 *
 * <pre>  d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^(1/2) S2 S1^(1/2))^(1/2))</pre>
 *
 * in double throughout. The matrix square roots come from eigen-decompositions of symmetric matrices (cyclic Jacobi),
 * so no general (possibly complex) matrix square root is needed: S1^(1/2) S2 S1^(1/2) is symmetric positive
 * semi-definite, and the trace of its square root is the sum of the square roots of its eigenvalues. Eigenvalues
 * that rounding pushes slightly below zero count as zero.
 */
public final class FrechetDistance {
    /** Mean (d) and covariance (d x d, unbiased) of a set of feature vectors. */
    public record Gaussian(double[] mean, double[][] covariance) {
        /** The dimension d of the feature vectors. */
        public int dimension() {
            return mean.length;
        }
    }

    private FrechetDistance() {
    }

    /** Fits a Gaussian to {@code rows} (n >= 2 vectors of one length d). */
    public static Gaussian fit(double[][] rows) {
        if (rows == null || rows.length < 2) throw new IllegalArgumentException("FrechetDistance.fit: needs at least 2 vectors");
        int n = rows.length, d = rows[0].length;
        double[] mean = new double[d];
        for (double[] r : rows) {
            if (r.length != d) throw new IllegalArgumentException("FrechetDistance.fit: vectors of lengths " + d + " and " + r.length);
            for (int j = 0; j < d; j++) mean[j] += r[j];
        }
        for (int j = 0; j < d; j++) mean[j] /= n;
        double[][] cov = new double[d][d];
        double[] c = new double[d];
        for (double[] r : rows) {
            for (int j = 0; j < d; j++) c[j] = r[j] - mean[j];
            for (int a = 0; a < d; a++) {
                double ca = c[a];
                double[] row = cov[a];
                for (int b = a; b < d; b++) row[b] += ca * c[b];
            }
        }
        for (int a = 0; a < d; a++) {
            for (int b = a; b < d; b++) {
                cov[a][b] /= n - 1;
                cov[b][a] = cov[a][b];
            }
        }
        return new Gaussian(mean, cov);
    }

    /** The Fréchet distance (squared, as FID reports it) between two fitted Gaussians of the same dimension. */
    public static double between(Gaussian p, Gaussian q) {
        int d = p.dimension();
        if (q.dimension() != d) throw new IllegalArgumentException("FrechetDistance: dimensions " + d + " and " + q.dimension());
        double meanTerm = 0;
        for (int j = 0; j < d; j++) meanTerm += (p.mean()[j] - q.mean()[j]) * (p.mean()[j] - q.mean()[j]);
        double[][] root = sqrtPsd(p.covariance());
        double[][] m = multiply(multiply(root, q.covariance()), root);
        symmetrize(m);
        double traceRoot = 0;
        for (double lambda : eigen(m).values) traceRoot += Math.sqrt(Math.max(lambda, 0));
        return meanTerm + trace(p.covariance()) + trace(q.covariance()) - 2 * traceRoot;
    }

    /** The symmetric square root of a symmetric positive semi-definite matrix: V diag(sqrt(max(lambda, 0))) V^T. */
    static double[][] sqrtPsd(double[][] s) {
        Eigen e = eigen(s);
        int d = s.length;
        double[][] out = new double[d][d];
        for (int k = 0; k < d; k++) {
            double r = Math.sqrt(Math.max(e.values[k], 0));
            if (r == 0) continue;
            for (int a = 0; a < d; a++) {
                double va = e.vectors[a][k] * r;
                for (int b = 0; b < d; b++) out[a][b] += va * e.vectors[b][k];
            }
        }
        return out;
    }

    /** Eigenvalues and eigenvectors (columns of {@code vectors}) of a symmetric matrix. */
    record Eigen(double[] values, double[][] vectors) {
    }

    /**
     * Cyclic Jacobi: rotations zero the off-diagonal entries one pair at a time until their norm is negligible against
     * the diagonal's. Slower than tridiagonal QR for large d, but simple, accurate (eigenvalues to a few ulps of the
     * norm) and ample for feature dimensions in the hundreds.
     */
    static Eigen eigen(double[][] symmetric) {
        int d = symmetric.length;
        double[][] a = new double[d][];
        for (int i = 0; i < d; i++) a[i] = symmetric[i].clone();
        double[][] v = new double[d][d];
        for (int i = 0; i < d; i++) v[i][i] = 1;
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0, diag = 0;
            for (int i = 0; i < d; i++) {
                diag += a[i][i] * a[i][i];
                for (int j = i + 1; j < d; j++) off += a[i][j] * a[i][j];
            }
            if (off <= 1e-30 * Math.max(diag, Double.MIN_NORMAL)) break;
            for (int p = 0; p < d; p++) {
                for (int q = p + 1; q < d; q++) {
                    if (a[p][q] == 0) continue;
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    rotate(a, v, p, q, c, s);
                }
            }
        }
        double[] values = new double[d];
        for (int i = 0; i < d; i++) values[i] = a[i][i];
        return new Eigen(values, v);
    }

    /** A <- J^T A J and V <- V J for the rotation J in the (p, q) plane that zeroes A[p][q]. */
    private static void rotate(double[][] a, double[][] v, int p, int q, double c, double s) {
        int d = a.length;
        for (int k = 0; k < d; k++) {  // columns p and q
            double akp = a[k][p], akq = a[k][q];
            a[k][p] = c * akp - s * akq;
            a[k][q] = s * akp + c * akq;
        }
        for (int k = 0; k < d; k++) {  // rows p and q
            double apk = a[p][k], aqk = a[q][k];
            a[p][k] = c * apk - s * aqk;
            a[q][k] = s * apk + c * aqk;
        }
        a[p][q] = a[q][p] = 0;
        for (int k = 0; k < d; k++) {
            double vkp = v[k][p], vkq = v[k][q];
            v[k][p] = c * vkp - s * vkq;
            v[k][q] = s * vkp + c * vkq;
        }
    }

    private static double[][] multiply(double[][] x, double[][] y) {
        int n = x.length, m = y[0].length, k = y.length;
        double[][] out = new double[n][m];
        for (int i = 0; i < n; i++) {
            for (int l = 0; l < k; l++) {
                double xil = x[i][l];
                if (xil == 0) continue;
                double[] yl = y[l], oi = out[i];
                for (int j = 0; j < m; j++) oi[j] += xil * yl[j];
            }
        }
        return out;
    }

    private static void symmetrize(double[][] m) {
        for (int i = 0; i < m.length; i++) {
            for (int j = i + 1; j < m.length; j++) m[i][j] = m[j][i] = 0.5 * (m[i][j] + m[j][i]);
        }
    }

    private static double trace(double[][] m) {
        double t = 0;
        for (int i = 0; i < m.length; i++) t += m[i][i];
        return t;
    }
}
