//===- CKKSOps.td - The ckks dialect -----------------------*- tablegen -*-===//
//
// Ciphertext-level CKKS. Types carry the level and the "scale degree" d: a
// value at level l has scale Delta_l^d, where Delta_l is the parameter set's
// scale of level l (Params::levelScale). The prime chain is built so that
// rescaling a degree-2 value at level l gives exactly Delta_{l-1}, so
// degrees 1 and 2 describe every scale the scheme produces and scale
// agreement is checked exactly, as integers.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DIALECT_CKKS_IR_CKKSOPS_TD
#define CERIUM_DIALECT_CKKS_IR_CKKSOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "cerium/Dialect/SecretSwitch.td"

def CKKS_Dialect : Dialect {
  let name = "ckks";
  let cppNamespace = "::cerium::ckks";
  let summary = "CKKS ciphertexts and plaintexts with levels and scales";
  let useDefaultTypePrinterParser = 1;
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

class CKKS_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<CKKS_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def CKKS_CiphertextType : CKKS_Type<"Ciphertext", "ct"> {
  let summary = "a CKKS ciphertext";
  let description = [{
    `!ckks.ct<level = L, degree = D, size = S>`: S polynomials (2, or 3
    before relinearization) over the primes of level L, at scale Delta_L^D.
  }];
  let parameters = (ins "unsigned":$level, "unsigned":$degree,
                        DefaultValuedParameter<"unsigned", "2">:$size);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def CKKS_PlaintextType : CKKS_Type<"Plaintext", "pt"> {
  let summary = "an encoded CKKS plaintext";
  let description = [{
    `!ckks.pt<level = L, degree = D>`: one polynomial over the primes of
    level L, encoded at scale Delta_L^D.
  }];
  let parameters = (ins "unsigned":$level, "unsigned":$degree);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

/// Ops whose result type follows from their operands: inferred, so every
/// level and scale rule is checked in one place (CKKSOps.cpp).
class CKKS_Op<string mnemonic, list<Trait> traits = []>
    : Op<CKKS_Dialect, mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor])>;

class CKKS_BinaryOp<string mnemonic, list<Trait> traits = []>
    : CKKS_Op<mnemonic, traits> {
  let arguments = (ins CKKS_CiphertextType:$lhs, CKKS_CiphertextType:$rhs);
  let results = (outs CKKS_CiphertextType:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
}

def CKKS_AddOp : CKKS_BinaryOp<"add", [Commutative]> {
  let summary = "ciphertext + ciphertext (same level and degree)";
}
def CKKS_SubOp : CKKS_BinaryOp<"sub"> {
  let summary = "ciphertext - ciphertext (same level and degree)";
}
def CKKS_MulOp : CKKS_BinaryOp<"mul", [Commutative]> {
  let summary = "ciphertext * ciphertext: degrees add, size 3 (tensor product)";
}

def CKKS_NegateOp : CKKS_Op<"negate"> {
  let arguments = (ins CKKS_CiphertextType:$input);
  let results = (outs CKKS_CiphertextType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

class CKKS_PlainOp<string mnemonic> : CKKS_Op<mnemonic> {
  let arguments = (ins CKKS_CiphertextType:$ciphertext,
                       CKKS_PlaintextType:$plaintext);
  let results = (outs CKKS_CiphertextType:$result);
  let assemblyFormat = [{
    $ciphertext `,` $plaintext attr-dict `:` type($ciphertext) `,`
    type($plaintext)
  }];
}

def CKKS_AddPlainOp : CKKS_PlainOp<"add_plain"> {
  let summary = "ciphertext + plaintext (same level and degree)";
}
def CKKS_MulPlainOp : CKKS_PlainOp<"mul_plain"> {
  let summary = "ciphertext * plaintext: degrees add";
}

def CKKS_MulConstOp : CKKS_Op<"mul_const"> {
  let summary = "ciphertext * a real constant in every slot: degree + 1";
  let description = [{
    Multiplies by the integer round(value * Delta_level): the encoding of a
    constant polynomial, which is the same residue in every NTT slot, so no
    plaintext is encoded or stored. Zero slots stay zero.
  }];
  let arguments = (ins CKKS_CiphertextType:$input, F64Attr:$value);
  let results = (outs CKKS_CiphertextType:$result);
  let assemblyFormat = "$input `by` $value attr-dict `:` type($input)";
}

def CKKS_MulIntOp : CKKS_Op<"mul_int"> {
  let summary = "ciphertext * an integer, exactly: level and degree unchanged";
  let description = [{
    Multiplies every component by the integer `value`, so the slots are
    multiplied by it with no rescale and no rounding (the noise grows by
    the same factor): `%y = ckks.mul_int %x by 16 : !ckks.ct<level = 0,
    degree = 1>`. Meta-bootstrapping scales the first iteration's small
    error up by 2^k with it before refreshing it.
  }];
  let arguments = (ins CKKS_CiphertextType:$input, I64Attr:$value);
  let results = (outs CKKS_CiphertextType:$result);
  let assemblyFormat = "$input `by` $value attr-dict `:` type($input)";
}

// One period of slot values, f64 or (when exact) f32.
def CKKS_SlotValuesAttr : AnyAttrOf<[DenseF64ArrayAttr, DenseF32ArrayAttr]>;

def CKKS_EncodeOp : Op<CKKS_Dialect, "encode", [Pure]> {
  let summary = "a plaintext constant: slot values encoded at a level";
  let description = [{
    `values` fill slots [0, len) and the remaining slots are zero (the
    zero-padded layout the fhe -> ckks lowering keeps); the result type says
    the level and scale degree of the encoding:
    `%w = ckks.encode [0.5, -1.0] : !ckks.pt<level = 3, degree = 1>`.
    Stored compactly (cerium/Dialect/SlotValues.h): f32 values when all are
    floats, one period repeated over `count` slots, after `offset` zero
    slots: `ckks.encode f32 [0.5] offset 2 count 4` is [0, 0, .5, .5, .5, .5].
    The lowering builds encodes compact; poly.encode and rns.encode carry
    the same attributes. With `complex`, the values are (real, imaginary)
    pairs and offset and count count complex slots (the homomorphic DFT of
    bootstrapping has complex diagonals).

    With `input k`, the values are known only at run time: each is a signed
    1-based index into main's argument k (a `plain` tensor the server is
    given), 0 for a zero slot, and the runtime substitutes ±element before
    it encodes (`ckks.encode f32 [1, -3] input 1`: slot 0 holds p[0], slot 1
    -p[2], p main's argument 1).
  }];
  let arguments = (ins CKKS_SlotValuesAttr:$values,
                       OptionalAttr<I64Attr>:$offset,
                       OptionalAttr<I64Attr>:$count, UnitAttr:$complex,
                       OptionalAttr<I64Attr>:$input);
  let results = (outs CKKS_PlaintextType:$result);
  let assemblyFormat = [{
    (`complex` $complex^)? custom<SlotValues>($values) (`offset` $offset^)?
    (`count` $count^)? (`input` $input^)? attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

def CKKS_RotateOp : CKKS_Op<"rotate"> {
  let summary = "cyclic slot rotation to the left by `offset`";
  let arguments = (ins CKKS_CiphertextType:$input, I64Attr:$offset);
  let results = (outs CKKS_CiphertextType:$result);
  let assemblyFormat = "$input `by` $offset attr-dict `:` type($input)";
  let hasFolder = 1;
}

def CKKS_ConjugateOp : CKKS_Op<"conjugate"> {
  let summary = "complex conjugation of the slots";
  let arguments = (ins CKKS_CiphertextType:$input);
  let results = (outs CKKS_CiphertextType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def CKKS_SwitchSecretOp : CKKS_Op<"switch_secret"> {
  let summary = "key-switch to the ephemeral sparse secret or back";
  let description = [{
    Sparse-secret encapsulation (bootstrapping): `to_sparse` switches a
    ciphertext under the dense secret s to the ephemeral sparse secret s',
    so that ModRaise's overflow I stays small; `to_dense` switches back
    right after ModRaise. The message, level and scale are unchanged:
    `%y = ckks.switch_secret %x to_sparse : !ckks.ct<level = 0, degree = 1>`.
    The key s -> s' exists over [P, Q_0] only (a sparse-secret RLWE
    instance is secure only with a small modulus), so `to_sparse` is
    accepted at level 0 only.
  }];
  let arguments = (ins CKKS_CiphertextType:$input,
                       SecretSwitchAttr:$direction);
  let results = (outs CKKS_CiphertextType:$result);
  let assemblyFormat = "$input $direction attr-dict `:` type($input)";
}

def CKKS_RelinearizeOp : CKKS_Op<"relinearize"> {
  let summary = "key-switch the s^2 component: size 3 -> size 2";
  let arguments = (ins CKKS_CiphertextType:$input);
  let results = (outs CKKS_CiphertextType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def CKKS_RescaleOp : CKKS_Op<"rescale"> {
  let summary = "divide by the primes of the top level: level - 1, degree - 1";
  let arguments = (ins CKKS_CiphertextType:$input);
  let results = (outs CKKS_CiphertextType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def CKKS_LevelDownOp : CKKS_Op<"level_down"> {
  let summary = "move a degree-1 value down to `level`, scale Delta_level";
  let description = [{
    Exact: the lowering drops primes down to level + 1, multiplies by the
    integer round(Delta_level * Q_{level+1} / Delta_input) (Q_{level+1} the
    product of that level's primes) and rescales, so the result has scale
    Delta_level exactly as its type says, at no level beyond the target.
  }];
  let arguments = (ins CKKS_CiphertextType:$input, I32Attr:$level);
  let results = (outs CKKS_CiphertextType:$result);
  let assemblyFormat = "$input `to` $level attr-dict `:` type($input)";
  let hasFolder = 1;
}

def CKKS_ModRaiseOp : Op<CKKS_Dialect, "mod_raise", [Pure]> {
  let summary = "lift a level-0 ciphertext to a higher level (bootstrapping)";
  let description = [{
    Reads each residue modulo q_0 (the base primes) as its centered integer
    and reduces it modulo every prime of `level`: the result decrypts to
    t = m + q_0 I for a small integer polynomial I (|I| bounded by the
    secret's Hamming weight). Its type only labels the limbs (level L,
    degree 1); the slots are decode(t) / Delta_L, which the bootstrap
    expansion accounts for.
  }];
  let arguments = (ins CKKS_CiphertextType:$input);
  let results = (outs CKKS_CiphertextType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def CKKS_BootstrapOp : Op<CKKS_Dialect, "bootstrap", [Pure]> {
  let summary = "refresh a ciphertext to a higher level";
  let description = [{
    The same slots (up to the bootstrap's error) at the result's level,
    Delta_level. Expanded by `ckks-expand-bootstrap` into level_down to 0,
    mod_raise, CoeffToSlot, EvalMod and SlotToCoeff before ckks -> poly.
    `iterations` (1 when absent, else 1 or 2): with 2, the error of the
    first refresh is refreshed again, scaled up, and added back
    (meta-bootstrapping): the same depth, twice the work, precision down
    to the level-0 noise (docs/bootstrapping.md).
  }];
  let arguments = (ins CKKS_CiphertextType:$input,
                       OptionalAttr<I64Attr>:$iterations);
  let results = (outs CKKS_CiphertextType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

#endif // CERIUM_DIALECT_CKKS_IR_CKKSOPS_TD
