package dev.kiln.nn;

import dev.kiln.Tensor;
import dev.kiln.ops.Autograd;
import dev.kiln.ops.NoGrad;
import dev.kiln.ops.Ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Loading a state dict: check everything first, so a bad load leaves the module exactly as it was. */
final class StateDicts {
    private StateDicts() {
    }

    static void load(String module, Map<String, Tensor> target, Map<String, Tensor> source) {
        check(module, target, source);
        try (NoGrad ignored = Autograd.noGrad()) {
            for (Map.Entry<String, Tensor> e : target.entrySet()) {
                Tensor dst = e.getValue(), src = source.get(e.getKey());
                if (src == dst) continue;
                if (src.device().equals(dst.device())) {
                    Ops.copy_(dst, src);
                } else {
                    try (Tensor moved = src.to(dst.device())) {
                        Ops.copy_(dst, moved);
                    }
                }
            }
        }
    }

    /** Throws, listing every problem, unless {@code source} would load into {@code target}; changes nothing. */
    static void check(String module, Map<String, Tensor> target, Map<String, Tensor> source) {
        if (source == null) throw new IllegalArgumentException(module + ".loadStateDict: state is null");
        List<String> problems = new ArrayList<>();
        for (String name : target.keySet()) {
            if (!source.containsKey(name)) problems.add("missing '" + name + "'");
        }
        for (Map.Entry<String, Tensor> e : source.entrySet()) {
            Tensor dst = target.get(e.getKey()), src = e.getValue();
            if (dst == null) {
                problems.add("unexpected '" + e.getKey() + "'");
            } else if (src == null || src.isClosed()) {
                problems.add("'" + e.getKey() + "' is " + (src == null ? "null" : "closed"));
            } else if (!Arrays.equals(dst.shape(), src.shape()) || dst.dtype() != src.dtype()) {
                problems.add("'" + e.getKey() + "' is " + src + " but the module holds " + dst);
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(module + ".loadStateDict: nothing was loaded: " + String.join("; ", problems));
        }
    }
}
