/**
 * Kiln: GPU kernels for the JVM. The public API is dev.kiln (tensors, devices, scopes), dev.kiln.ops (functional ops
 * and autograd), dev.kiln.nn (modules), dev.kiln.optim, dev.kiln.data, dev.kiln.train and dev.kiln.models.
 * dev.kiln.internal (the JNI binding, which handles raw addresses) is deliberately not exported.
 */
module dev.kiln {
    exports dev.kiln;
    exports dev.kiln.ops;
    exports dev.kiln.nn;
    exports dev.kiln.optim;
    exports dev.kiln.io;
    exports dev.kiln.data;
    exports dev.kiln.train;
    exports dev.kiln.models;
    exports dev.kiln.eval;
    exports dev.kiln.profile;
    exports dev.kiln.interop;

    // The `kiln` command line only; library users need not have picocli.
    requires static info.picocli;
    opens dev.kiln.cli to info.picocli;
    // `kiln train`'s Ctrl-C handler (sun.misc.Signal).
    requires static jdk.unsupported;
    // `kiln demo`'s charts (an automatic module: the jar's Automatic-Module-Name).
    requires static org.jfree.jfreechart;

    // dev.kiln.interop.JCudaInterop only; the core never loads a JCuda class, so JCuda is optional.
    requires static jcuda;

    // dev.kiln.io: safetensors headers are JSON (Gson); image grids and charts are PNGs drawn with Java2D.
    requires com.google.gson;
    requires java.desktop;
}
