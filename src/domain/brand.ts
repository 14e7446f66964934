declare const brand: unique symbol;
/** A nominal type: a T that the compiler will not confuse with another T of a different purpose. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };
