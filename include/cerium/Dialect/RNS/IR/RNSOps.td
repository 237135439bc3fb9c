//===- RNSOps.td - The rns dialect -------------------------*- tablegen -*-===//
//
// Limb level: arrays of residues over explicit primes, and the kernels the
// runtime calls on them. `!rns.limbs<0 to 3, 7>` holds N residues for each
// of the primes with ids 0, 1, 2, 3 and 7 (ids index the parameter set's
// prime table: Q primes first, then P). Values are immutable; the memory
// planner (rns-plan-memory) gives each one a place in a single arena and
// lets elementwise kernels overwrite operands that die there.
//
// Elementwise arithmetic (add, sub, neg, mul, mul_int, mul_prod, mul_inv)
// applies to
// limb arrays and, inside an `rns.kernel` body, to single residues (i32):
// rns-fuse-elementwise moves chains of it into kernels, which are the unit
// of code generation for both backends.
//
//===----------------------------------------------------------------------===//
#ifndef CERIUM_DIALECT_RNS_IR_RNSOPS_TD
#define CERIUM_DIALECT_RNS_IR_RNSOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "cerium/Dialect/SecretSwitch.td"

def RNS_Dialect : Dialect {
  let name = "rns";
  let cppNamespace = "::cerium::rns";
  let summary = "limb arrays over explicit primes and the kernels on them";
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
}

def RNS_StoredValuesAttr : AttrDef<RNS_Dialect, "StoredValues"> {
  let mnemonic = "stored";
  let summary = "slot values kept in the artifact's constant section";
  let description = [{
    The stored period of an rns.encode in an artifact read from a file:
    `count` values (f32 or f64) at byte `offset` of the artifact's constant
    section, which the runtime reads them from (mapped, and streamed under
    `cerium-run --memory-limit`) instead of holding every plaintext's values
    in the program. `#rns.stored<1024 x f32 at 4096>`.
  }];
  let parameters = (ins "uint64_t":$offset, "uint64_t":$count, "bool":$f32);
  let hasCustomAssemblyFormat = 1;
  let extraClassDeclaration = [{
    size_t getBytes() const { return getCount() * (getF32() ? 4 : 8); }
  }];
}

def RNS_LimbsType : TypeDef<RNS_Dialect, "Limbs"> {
  let mnemonic = "limbs";
  let summary = "N residues for each of a list of primes";
  let parameters = (ins ArrayRefParameter<"uint32_t">:$primes);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    size_t getNumLimbs() const { return getPrimes().size(); }
    LimbsType slice(size_t offset, size_t count) const {
      return get(getContext(), getPrimes().slice(offset, count));
    }
  }];
}

/// A limb array, or one residue inside a kernel body.
def RNS_Element : AnyTypeOf<[RNS_LimbsType, I32]>;

class RNS_Op<string mnemonic, list<Trait> traits = []>
    : Op<RNS_Dialect, mnemonic, !listconcat(traits, [Pure])>;

//===----------------------------------------------------------------------===//
// Elementwise arithmetic
//===----------------------------------------------------------------------===//

class RNS_ElementwiseOp<string mnemonic, list<Trait> traits = []>
    : RNS_Op<mnemonic, !listconcat(traits, [SameOperandsAndResultType])>;

class RNS_BinaryOp<string mnemonic, list<Trait> traits = []>
    : RNS_ElementwiseOp<mnemonic, traits> {
  let arguments = (ins RNS_Element:$lhs, RNS_Element:$rhs);
  let results = (outs RNS_Element:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def RNS_AddOp : RNS_BinaryOp<"add", [Commutative]>;
def RNS_SubOp : RNS_BinaryOp<"sub">;
def RNS_MulOp : RNS_BinaryOp<"mul", [Commutative]>;

def RNS_NegateOp : RNS_ElementwiseOp<"neg"> {
  let arguments = (ins RNS_Element:$input);
  let results = (outs RNS_Element:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def RNS_MulIntOp : RNS_ElementwiseOp<"mul_int"> {
  let summary = "product with a signed integer, reduced per limb";
  let arguments = (ins RNS_Element:$input, I64Attr:$value);
  let results = (outs RNS_Element:$result);
  let assemblyFormat = "$input `by` $value attr-dict `:` type($result)";
  let hasFolder = 1;
}

def RNS_MulInvOp : RNS_ElementwiseOp<"mul_inv"> {
  let summary = "product with the inverse of the product of `primes`";
  let description = [{
    Multiplies limb i by (prod_k p_k)^-1 mod p_i: the division that ends a
    ModDown (by P) or a rescale (by the dropped primes). `primes` must be
    disjoint from the operand's.
  }];
  let arguments = (ins RNS_Element:$input, DenseI32ArrayAttr:$primes);
  let results = (outs RNS_Element:$result);
  let assemblyFormat = "$input `by` $primes attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def RNS_MulProdOp : RNS_ElementwiseOp<"mul_prod"> {
  let summary = "product with the product of `primes`";
  let description = [{
    Multiplies limb i by (prod_k p_k) mod p_i: lifts a value to a basis
    extended by those primes (x P is x over Q and 0 over P).
  }];
  let arguments = (ins RNS_Element:$input, DenseI32ArrayAttr:$primes);
  let results = (outs RNS_Element:$result);
  let assemblyFormat = "$input `by` $primes attr-dict `:` type($result)";
}

def RNS_KernelOp : Op<RNS_Dialect, "kernel", [Pure,
    SingleBlock, IsolatedFromAbove]> {
  let summary = "a fused elementwise kernel over limb arrays of one basis";
  let description = [{
    The body computes one residue of each result from one residue of each
    operand (block arguments are i32), with the elementwise ops above.
    Every operand and result has the same limbs type. Backends evaluate it
    element by element, so a result may share memory with an operand.
  }];
  let arguments = (ins Variadic<RNS_LimbsType>:$inputs);
  let results = (outs Variadic<RNS_LimbsType>:$outputs);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `(` $inputs `)` attr-dict-with-keyword `:` functional-type($inputs, $outputs)
    $body
  }];
  let hasVerifier = 1;
}

def RNS_YieldOp : Op<RNS_Dialect, "yield", [Pure, Terminator,
    HasParent<"KernelOp">]> {
  let arguments = (ins Variadic<I32>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

//===----------------------------------------------------------------------===//
// Domain changes, basis changes and key switching
//===----------------------------------------------------------------------===//

def RNS_NttOp : RNS_Op<"ntt", [SameOperandsAndResultType]> {
  let summary = "negacyclic NTT of every limb (bit-reversed output)";
  let arguments = (ins RNS_LimbsType:$input);
  let results = (outs RNS_LimbsType:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def RNS_InttOp : RNS_Op<"intt", [SameOperandsAndResultType]> {
  let summary = "inverse NTT of every limb";
  let arguments = (ins RNS_LimbsType:$input);
  let results = (outs RNS_LimbsType:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def RNS_SliceOp : RNS_Op<"slice"> {
  let summary = "limbs [offset, offset + count) of an array (a view)";
  let arguments = (ins RNS_LimbsType:$input, I64Attr:$offset);
  let results = (outs RNS_LimbsType:$result);
  let assemblyFormat = "$input `at` $offset attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def RNS_ConcatOp : RNS_Op<"concat"> {
  let summary = "limb arrays side by side in one new array";
  let arguments = (ins Variadic<RNS_LimbsType>:$inputs);
  let results = (outs RNS_LimbsType:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs) `->` type($result)";
  let hasVerifier = 1;
}

def RNS_BaseConvertOp : RNS_Op<"base_convert"> {
  let summary = "centered fast base conversion (coefficient form)";
  let arguments = (ins RNS_LimbsType:$input);
  let results = (outs RNS_LimbsType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def RNS_AutomorphOp : RNS_Op<"automorph", [SameOperandsAndResultType]> {
  let summary = "X -> X^galois on NTT-domain limbs (a permutation)";
  let arguments = (ins RNS_LimbsType:$input, I64Attr:$galois);
  let results = (outs RNS_LimbsType:$result);
  let assemblyFormat = "$input `by` $galois attr-dict `:` type($result)";
}

def RNS_KeySwitchOp : RNS_Op<"key_switch", [AllTypesMatch<["b", "a"]>]> {
  let summary = "inner product of raised digits with a switching key";
  let description = [{
    (sum_j d_j * b_j, sum_j d_j * a_j), all over the operands' primes (a
    prefix of the key's [P, Q_k] basis, k >= the op's level); the
    relinearization key, the
    Galois key of `galois`, or the sparse-secret encapsulation key
    `secret` (`to_sparse`, stored over [P, Q_0] only, or `to_dense`). At
    most one of `galois` and `secret`. With `permute` = g (odd), each digit
    is read through the NTT-domain automorphism X -> X^g first: a hoisted
    rotation's raised digits are used where they are instead of rotated
    into arrays of their own (rns-fold-digit-automorph).
  }];
  let arguments = (ins Variadic<RNS_LimbsType>:$digits,
                       OptionalAttr<I64Attr>:$galois,
                       OptionalAttr<SecretSwitchAttr>:$secret,
                       OptionalAttr<I64Attr>:$permute);
  let results = (outs RNS_LimbsType:$b, RNS_LimbsType:$a);
  let assemblyFormat = [{
    $digits (`secret` $secret^)? attr-dict `:` type($digits) `->` type($b)
  }];
  let hasVerifier = 1;
}

def RNS_EncodeOp : RNS_Op<"encode"> {
  let summary = "slot values encoded at scale Delta_level^degree (NTT)";
  let description = [{
    Slot values stored compactly as in ckks.encode (one period of f64 or
    f32 values, repeated over `count` slots after `offset` zero slots); the
    executor expands them on the host right before encoding. In an artifact
    read from a file the period is #rns.stored: the values lie in the
    artifact's constant section, not in the program. With `input`,
    indices into a run-time plaintext input as in ckks.encode: the runtime
    binds them to the input's values before the schedule runs
    (runtime::bindPlainInputs).
  }];
  let arguments = (ins AnyAttrOf<[DenseF64ArrayAttr,
                                 DenseF32ArrayAttr,
                                 RNS_StoredValuesAttr]>:$values,
                       OptionalAttr<I64Attr>:$offset,
                       OptionalAttr<I64Attr>:$count, UnitAttr:$complex,
                       I64Attr:$level, I64Attr:$degree,
                       OptionalAttr<I64Attr>:$input);
  let results = (outs RNS_LimbsType:$result);
  let extraClassDeclaration = [{
    /// The stored period: its data when the program holds it, only its
    /// shape (data null) when it is #rns.stored.
    ::cerium::SlotValueData getStoredValues();
  }];
  let assemblyFormat = [{
    (`complex` $complex^)? custom<EncodeValues>($values) (`offset` $offset^)?
    (`count` $count^)? (`input` $input^)? `level` $level `degree` $degree
    attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Several processes (rns-partition)
//===----------------------------------------------------------------------===//

def RNS_AllGatherOp : Op<RNS_Dialect, "all_gather",
                         [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "makes every limb of an array valid on every rank, in place";
  let description = [{
    In a schedule partitioned over several processes (`rns.ranks` on the
    function), an array computed limb-wise (`source` = -1) holds on each
    rank only the limbs whose primes that rank owns; one computed on a
    single rank (`source` = that rank) holds its limbs there only. After
    this op every rank holds all of them, in the array's own memory (no
    result: the values are unchanged, only where they are known grows).
  }];
  let arguments = (ins RNS_LimbsType:$input, I64Attr:$source);
  let assemblyFormat = "$input `from` $source attr-dict `:` type($input)";
  let hasVerifier = 1;
}

#endif // CERIUM_DIALECT_RNS_IR_RNSOPS_TD
