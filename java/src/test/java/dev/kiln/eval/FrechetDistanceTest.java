package dev.kiln.eval;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The Fréchet distance against closed forms: 1-D, and Gaussians whose covariances share eigenvectors. */
class FrechetDistanceTest {
    @Test
    void oneDimensionalClosedForm() {
        FrechetDistance.Gaussian p = new FrechetDistance.Gaussian(new double[] {1.5}, new double[][] {{4}});
        FrechetDistance.Gaussian q = new FrechetDistance.Gaussian(new double[] {-0.5}, new double[][] {{9}});
        assertEquals(4 + (2 - 3) * (2 - 3), FrechetDistance.between(p, q), 1e-12);  // (m1-m2)^2 + (s1-s2)^2
    }

    /** S1 = Q D1 Q^T, S2 = Q D2 Q^T with a random orthogonal Q: d^2 = |dm|^2 + sum (sqrt(d1) - sqrt(d2))^2. */
    @Test
    void commutingCovariancesInARandomBasis() {
        int d = 40;
        SplittableRandom r = new SplittableRandom(11);
        double[][] q = randomOrthogonal(d, r);
        double[] d1 = new double[d], d2 = new double[d], m1 = new double[d], m2 = new double[d];
        double want = 0;
        for (int i = 0; i < d; i++) {
            d1[i] = 0.1 + 3 * r.nextDouble();
            d2[i] = i % 7 == 0 ? 0 : 0.1 + 3 * r.nextDouble();  // singular: rank-deficient covariances are fine
            m1[i] = r.nextDouble() - 0.5;
            m2[i] = r.nextDouble() - 0.5;
            want += (m1[i] - m2[i]) * (m1[i] - m2[i]) + Math.pow(Math.sqrt(d1[i]) - Math.sqrt(d2[i]), 2);
        }
        double got = FrechetDistance.between(new FrechetDistance.Gaussian(m1, conjugate(q, d1)),
                new FrechetDistance.Gaussian(m2, conjugate(q, d2)));
        assertEquals(want, got, 1e-7 * want);  // square roots of near-zero eigenvalues magnify their rounding
        assertEquals(0, FrechetDistance.between(new FrechetDistance.Gaussian(m1, conjugate(q, d1)),
                new FrechetDistance.Gaussian(m1, conjugate(q, d1))), 1e-9, "a distribution is at distance 0 from itself");
    }

    /** Non-commuting covariances: the symmetric square root squares back to S, and the distance is symmetric. */
    @Test
    void squareRootAndSymmetryForGeneralCovariances() {
        int d = 12;
        SplittableRandom r = new SplittableRandom(5);
        double[][] a = randomSpd(d, r), b = randomSpd(d, r);
        double[][] root = FrechetDistance.sqrtPsd(a);
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int k = 0; k < d; k++) s += root[i][k] * root[k][j];
                assertEquals(a[i][j], s, 1e-10);
            }
        }
        double[] zero = new double[d];
        double pq = FrechetDistance.between(new FrechetDistance.Gaussian(zero, a), new FrechetDistance.Gaussian(zero, b));
        double qp = FrechetDistance.between(new FrechetDistance.Gaussian(zero, b), new FrechetDistance.Gaussian(zero, a));
        assertEquals(pq, qp, 1e-9 * pq);
        assertEquals(true, pq > 0);
    }

    @Test
    void fitGivesTheSampleMeanAndUnbiasedCovariance() {
        FrechetDistance.Gaussian g = FrechetDistance.fit(new double[][] {{1, 2}, {3, 6}, {5, 4}});
        assertArrayEquals(new double[] {3, 4}, g.mean(), 1e-12);
        assertArrayEquals(new double[] {4, 2}, g.covariance()[0], 1e-12);  // var x = 8/2, cov = (-2*-2 + 0 + 2*0)/2
        assertArrayEquals(new double[] {2, 4}, g.covariance()[1], 1e-12);
        assertThrows(IllegalArgumentException.class, () -> FrechetDistance.fit(new double[][] {{1}}));
    }

    private static double[][] conjugate(double[][] q, double[] diag) {
        int d = diag.length;
        double[][] s = new double[d][d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++) s[i][j] += q[i][k] * diag[k] * q[j][k];
        return s;
    }

    /** Gram-Schmidt on a random matrix. */
    private static double[][] randomOrthogonal(int d, SplittableRandom r) {
        double[][] q = new double[d][d];
        for (int c = 0; c < d; c++) {
            double[] v = new double[d];
            for (int i = 0; i < d; i++) v[i] = r.nextDouble() - 0.5;
            for (int p = 0; p < c; p++) {
                double dot = 0;
                for (int i = 0; i < d; i++) dot += v[i] * q[i][p];
                for (int i = 0; i < d; i++) v[i] -= dot * q[i][p];
            }
            double norm = 0;
            for (double x : v) norm += x * x;
            norm = Math.sqrt(norm);
            for (int i = 0; i < d; i++) q[i][c] = v[i] / norm;
        }
        return q;
    }

    private static double[][] randomSpd(int d, SplittableRandom r) {
        double[][] m = new double[d][d], s = new double[d][d];
        for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) m[i][j] = r.nextDouble() - 0.5;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                for (int k = 0; k < d; k++) s[i][j] += m[i][k] * m[j][k];
                if (i == j) s[i][j] += 0.1;
            }
        return s;
    }
}
