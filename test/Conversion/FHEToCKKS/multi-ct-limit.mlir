// RUN: cerium-opt %s --fhe-to-ckks="slots=2" -verify-diagnostics
// A tensor may take at most 4096 ciphertexts (kMaxCiphertextsPerTensor).

// expected-error@+1 {{a tensor of 8194 slots as laid out takes more than 4096 ciphertexts of 2 slots}}
func.func @main(%x: !fhe.cipher<[8194]>) -> !fhe.cipher<[8194]> {
  return %x : !fhe.cipher<[8194]>
}
