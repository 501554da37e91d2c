package dev.kiln.ops;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a static method of an op family class as part of the {@link Ops} facade. The build generates Ops from these
 * (java/src/codegen/GenerateOpsFacade.java): a public method with the same signature and javadoc that delegates here,
 * so an op family adds itself to the facade without editing a shared file. Kept at run time for OpsFacadeTest.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@interface Op {
}
