//===- cerium-demo.cpp - Encrypted arithmetic on the CPU, end to end ------===//
//
// Encodes and encrypts two random vectors, multiplies them (relinearize,
// rescale), rotates the product, adds a plaintext, decrypts, and reports the
// error against the same computation in float64.
//
//===----------------------------------------------------------------------===//

#include "cerium/CKKS/Encoder.h"
#include "cerium/CKKS/Evaluator.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/Support/Error.h"
#include "cerium/kernels/CpuBackend.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>

using namespace cerium;
using namespace cerium::ckks;

namespace {
using Clock = std::chrono::steady_clock;
double msSince(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}
} // namespace

int main(int argc, char **argv) {
  CLI::App app{"Cerium CPU demo: encrypted multiply, rotate and add"};
  ParamSpec spec;
  spec.logN = 14;
  spec.levels = 4;
  spec.scaleBits = 50;
  spec.baseBits = 60;
  spec.dnum = 3;
  int rotation = 3;
  int threads = 0;
  bool portable = false;
  app.add_option("--log-n", spec.logN, "log2 of the ring dimension");
  app.add_option("--levels", spec.levels, "multiplicative levels");
  app.add_option("--scale-bits", spec.scaleBits, "log2 of the scale");
  app.add_option("--dnum", spec.dnum, "key-switching digits");
  app.add_option("--rotate", rotation, "slot rotation applied to the product");
  app.add_option("--threads", threads, "worker threads (0: all)")
      ->check(CLI::Range(0, 1024));
  app.add_flag("--portable-ntt", portable,
               "use the portable NTT even where AVX2 is available");
  app.add_flag("--insecure", spec.insecure,
               "allow parameters below 128-bit security (tests only)");
  CLI11_PARSE(app, argc, argv);

  try {
    auto params = Params::create(spec);
    if (params->insecure())
      std::fprintf(stderr, "warning: INSECURE parameters (below 128-bit "
                           "security), for testing only\n");
    fmt::print("parameters: {}\n", params->describe());
    auto backend = kernels::createCpuBackend(
        params->rns(), kernels::CpuBackendOptions{
                           threads, portable ? kernels::NttPath::Portable
                                             : kernels::NttPath::Auto});
    // The path the backend resolved (CERIUM_CPU may force one).
    fmt::print("backend: CPU ({} path)\n",
               kernels::cpuPathName(kernels::cpuPathOf(*backend)));
    Prng prng;
    auto t0 = Clock::now();
    KeyGenerator keygen(params, *backend, prng);
    SecretKey sk = keygen.secretKey();
    PublicKey pk = keygen.publicKey(sk);
    uint32_t g = galoisForRotation(*params, rotation);
    EvalKeys keys = keygen.evalKeys(sk, /*relin=*/true, std::span(&g, 1));
    fmt::print("keygen:  {:8.1f} ms\n", msSince(t0));

    const size_t n = params->slots();
    Prng data(2024);
    std::vector<double> x(n), y(n), c(n);
    for (size_t i = 0; i < n; ++i) {
      x[i] = 2 * data.uniformReal() - 1;
      y[i] = 2 * data.uniformReal() - 1;
      c[i] = 2 * data.uniformReal() - 1;
    }
    Encoder encoder(params);
    Encryptor encryptor(params, *backend);
    Evaluator eval(params, *backend);
    const unsigned top = params->maxLevel();
    const double scale = params->levelScale(top);

    t0 = Clock::now();
    Ciphertext cx =
        encryptor.encrypt(encoder.encode(x, scale, top, *backend), pk, prng);
    Ciphertext cy =
        encryptor.encrypt(encoder.encode(y, scale, top, *backend), pk, prng);
    fmt::print("encrypt: {:8.1f} ms (2 ciphertexts)\n", msSince(t0));

    t0 = Clock::now();
    Ciphertext prod =
        eval.rescale(eval.relinearize(eval.multiply(cx, cy), keys));
    double tMul = msSince(t0);
    t0 = Clock::now();
    Ciphertext rot = eval.rotate(prod, rotation, keys);
    double tRot = msSince(t0);
    Plaintext pc = encoder.encode(c, rot.scale, rot.level(), *backend);
    Ciphertext result = eval.addPlain(rot, pc);
    fmt::print("multiply+relinearize+rescale: {:8.1f} ms\n", tMul);
    fmt::print("rotate by {}:                 {:8.1f} ms\n", rotation, tRot);

    t0 = Clock::now();
    auto decoded = encoder.decode(encryptor.decrypt(result, sk), *backend);
    fmt::print("decrypt: {:8.1f} ms\n", msSince(t0));

    double maxErr = 0, maxRef = 0;
    for (size_t i = 0; i < n; ++i) {
      size_t src = (i + static_cast<size_t>(rotation % int(n) + int(n))) % n;
      double ref = x[src] * y[src] + c[i];
      maxErr = std::max(maxErr, std::abs(decoded[i] - ref));
      maxRef = std::max(maxRef, std::abs(ref));
    }
    fmt::print("result: z = roll(x * y, -{}) + c over {} slots\n", rotation, n);
    fmt::print("max |decrypted - float64 reference| = {:.3e} "
               "({:.1f} bits of precision), max |reference| = {:.3f}\n",
               maxErr, -std::log2(maxErr), maxRef);
    // Fresh-encryption noise is ~2^18 at N = 2^14 (uniform ternary secret);
    // anything near 2^(24 - scaleBits) or above means a broken pipeline.
    if (!(maxErr < std::ldexp(1.0, 24 - int(spec.scaleBits)))) {
      std::fprintf(stderr, "error: decrypted result is off by %.3e\n", maxErr);
      return 1;
    }
    return 0;
  } catch (const cerium::Error &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
