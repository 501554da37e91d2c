/**
 * Memory Kiln shares with other code without copies: java.nio direct buffers ({@link dev.kiln.interop.DirectBuffers},
 * no dependencies) and JCuda pointers and streams ({@link dev.kiln.interop.JCudaInterop}, which needs org.jcuda:jcuda
 * on the class path; the rest of Kiln never loads a JCuda class, so the core jar works without it).
 *
 * <p>Both directions follow one rule of lifetime. A tensor that wraps someone else's memory never frees it: closing the
 * tensor (or its {@link dev.kiln.Scope}) ends Kiln's use, and the owner keeps the memory alive until then. A view of a
 * Kiln tensor (a buffer, a pointer) owns nothing: it is valid while the tensor is open and must not be used after;
 * Kiln refuses to make one of a closed tensor, but cannot see what is done with a view it has handed out.
 */
package dev.kiln.interop;
