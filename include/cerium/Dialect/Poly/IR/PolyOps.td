//===- PolyOps.td - The poly dialect -----------------------*- tablegen -*-===//
//
// Ring level: elements of R_Q as RNS towers, with their basis and domain.
// `!poly.poly<Q3, ntt>` lives on the Q primes of level 3 in the NTT domain;
// `!poly.poly<PQ3, coeff>` on the special primes P followed by those Q
// primes (the key-switching basis), in coefficient form. Ciphertexts become
// their polynomials; key switching, rescaling and plaintext encoding become
// explicit ring operations whose domains the verifiers check.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DIALECT_POLY_IR_POLYOPS_TD
#define CERIUM_DIALECT_POLY_IR_POLYOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "cerium/Dialect/SecretSwitch.td"

def Poly_Dialect : Dialect {
  let name = "poly";
  let cppNamespace = "::cerium::poly";
  let summary = "RNS ring elements with their basis and NTT domain";
  let useDefaultTypePrinterParser = 1;
}

def Poly_PolyType : TypeDef<Poly_Dialect, "Poly"> {
  let mnemonic = "poly";
  let summary = "a polynomial over an RNS basis, in one domain";
  let parameters = (ins "unsigned":$level, "bool":$extended, "bool":$ntt);
  let hasCustomAssemblyFormat = 1;
  let extraClassDeclaration = [{
    /// The same polynomial in the other domain or basis.
    PolyType withNtt(bool inNtt) const {
      return get(getContext(), getLevel(), getExtended(), inNtt);
    }
  }];
}

class Poly_Op<string mnemonic, list<Trait> traits = []>
    : Op<Poly_Dialect, mnemonic, !listconcat(traits, [Pure])>;

class Poly_BinaryOp<string mnemonic, list<Trait> traits = []>
    : Poly_Op<mnemonic, !listconcat(traits, [SameOperandsAndResultType])> {
  let arguments = (ins Poly_PolyType:$lhs, Poly_PolyType:$rhs);
  let results = (outs Poly_PolyType:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Poly_AddOp : Poly_BinaryOp<"add", [Commutative]> {
  let summary = "coefficient-wise (or slot-wise) sum";
}
def Poly_SubOp : Poly_BinaryOp<"sub"> { let summary = "difference"; }
def Poly_MulOp : Poly_BinaryOp<"mul", [Commutative]> {
  let summary = "ring product: pointwise in the NTT domain";
  let hasVerifier = 1;
}

def Poly_NegateOp : Poly_Op<"neg", [SameOperandsAndResultType]> {
  let arguments = (ins Poly_PolyType:$input);
  let results = (outs Poly_PolyType:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Poly_MulIntOp : Poly_Op<"mul_int", [SameOperandsAndResultType]> {
  let summary = "product with a signed integer (any domain)";
  let arguments = (ins Poly_PolyType:$input, I64Attr:$value);
  let results = (outs Poly_PolyType:$result);
  let assemblyFormat = "$input `by` $value attr-dict `:` type($result)";
  let hasFolder = 1;
}

def Poly_NttOp : Poly_Op<"ntt"> {
  let summary = "coefficient form -> NTT domain";
  let arguments = (ins Poly_PolyType:$input);
  let results = (outs Poly_PolyType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Poly_InttOp : Poly_Op<"intt"> {
  let summary = "NTT domain -> coefficient form";
  let arguments = (ins Poly_PolyType:$input);
  let results = (outs Poly_PolyType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Poly_AutomorphOp : Poly_Op<"automorph", [SameOperandsAndResultType]> {
  let summary = "a(X) -> a(X^galois), galois odd";
  let arguments = (ins Poly_PolyType:$input, I64Attr:$galois);
  let results = (outs Poly_PolyType:$result);
  let assemblyFormat = "$input `by` $galois attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Poly_DropOp : Poly_Op<"drop"> {
  let summary = "keep the Q primes of a lower level (exact: no rounding)";
  let arguments = (ins Poly_PolyType:$input);
  let results = (outs Poly_PolyType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Poly_ModUpOp : Poly_Op<"mod_up"> {
  let summary = "raise one key-switching digit to the basis PQ";
  let description = [{
    Digit `digit` of x over Q_l (the primes [j*alpha, (j+1)*alpha)) extended
    to P ∪ Q_l: its own limbs are copied from `x` (NTT), the others are the
    base conversion of `coeffs` (x in coefficient form) followed by NTTs.
    Taking both forms makes the one inverse NTT of x shared by all digits.
  }];
  let arguments = (ins Poly_PolyType:$x, Poly_PolyType:$coeffs,
                       I64Attr:$digit);
  let results = (outs Poly_PolyType:$result);
  let assemblyFormat = [{
    $x `,` $coeffs `digit` $digit attr-dict `:` type($x) `,` type($coeffs)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def Poly_ModRaiseOp : Poly_Op<"mod_raise"> {
  let summary = "centered lift from the base primes Q_0 to Q_l (bootstrapping)";
  let description = [{
    x over Q_0 (NTT) read as centered integers modulo q_0 and reduced
    modulo every prime of Q_l: the base limbs are kept, the others are the
    base conversion of x's coefficient form followed by NTTs.
  }];
  let arguments = (ins Poly_PolyType:$input);
  let results = (outs Poly_PolyType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Poly_KeySwitchOp : Poly_Op<"key_switch", [AllTypesMatch<["b", "a"]>]> {
  let summary = "inner product of raised digits with a switching key";
  let description = [{
    (sum_j d_j * b_j, sum_j d_j * a_j) over PQ_l (NTT), with the
    relinearization key, the Galois key of `galois`, or the sparse-secret
    encapsulation key `secret` (`to_sparse`: s -> s', at level 0 only;
    `to_dense`: s' -> s). At most one of `galois` and `secret`.
  }];
  let arguments = (ins Variadic<Poly_PolyType>:$digits,
                       OptionalAttr<I64Attr>:$galois,
                       OptionalAttr<SecretSwitchAttr>:$secret);
  let results = (outs Poly_PolyType:$b, Poly_PolyType:$a);
  let assemblyFormat = [{
    $digits (`secret` $secret^)? attr-dict `:` type($digits) `->` type($b)
  }];
  let hasVerifier = 1;
}

def Poly_ModDownOp : Poly_Op<"mod_down"> {
  let summary = "round(x / P): PQ_l -> Q_l (NTT)";
  let arguments = (ins Poly_PolyType:$input);
  let results = (outs Poly_PolyType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Poly_ModDownRescaleOp : Poly_Op<"mod_down_rescale"> {
  let summary = "rescale(addend + mod_down(x)) in one division";
  let description = [{
    round((x + P * addend) / (P * q)) for x over PQ_l, addend over Q_l
    (none: 0) and q the product of level l's primes: the ModDown that ends a
    key switch and the rescale after it share one inverse NTT (of the P and
    q limbs) and one NTT of the kept limbs, instead of an NTT of every limb
    for each.
  }];
  let arguments = (ins Poly_PolyType:$input, Optional<Poly_PolyType>:$addend);
  let results = (outs Poly_PolyType:$result);
  let assemblyFormat = [{
    $input (`,` $addend^)? attr-dict `:` type($input) (`,` type($addend)^)?
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def Poly_RescaleOp : Poly_Op<"rescale"> {
  let summary = "round(x / q) for the product q of the top level's primes";
  let arguments = (ins Poly_PolyType:$input);
  let results = (outs Poly_PolyType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Poly_EncodeOp : Poly_Op<"encode"> {
  let summary = "slot values encoded at scale Delta_level^degree (NTT)";
  let description = [{
    Slot values stored compactly as in ckks.encode (one period of f64 or
    f32 values, repeated over `count` slots after `offset` zero slots); with
    `input`, indices into a run-time plaintext input as in ckks.encode.
  }];
  let arguments = (ins AnyAttrOf<[DenseF64ArrayAttr,
                                 DenseF32ArrayAttr]>:$values,
                       OptionalAttr<I64Attr>:$offset,
                       OptionalAttr<I64Attr>:$count, UnitAttr:$complex,
                       I64Attr:$degree, OptionalAttr<I64Attr>:$input);
  let results = (outs Poly_PolyType:$result);
  let assemblyFormat = [{
    (`complex` $complex^)? custom<SlotValues>($values) (`offset` $offset^)?
    (`count` $count^)? (`input` $input^)? `degree` $degree attr-dict `:`
    type($result)
  }];
  let hasVerifier = 1;
}

#endif // CERIUM_DIALECT_POLY_IR_POLYOPS_TD
