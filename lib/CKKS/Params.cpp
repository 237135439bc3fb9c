//===- Params.cpp - CKKS parameter sets -----------------------------------===//

#include "cerium/CKKS/Params.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace cerium::ckks {

unsigned maxLogQP128(unsigned logN) {
  switch (logN) {
  case 10:
    return 27;
  case 11:
    return 54;
  case 12:
    return 109;
  case 13:
    return 218;
  case 14:
    return 438;
  case 15:
    return 881;
  case 16:
    return 1772;
  default:
    return 0;
  }
}

unsigned maxLogPQ0Encapsulated128(unsigned logN, unsigned weight) {
  if (weight != 32)
    return 0;
  switch (logN) {
  case 14:
    return 102;
  case 15:
    return 226;
  case 16:
    return 494;
  default:
    return 0;
  }
}

static constexpr unsigned kMaxPrimeBits = modarith::kMaxModulusBits;

static size_t baseCountFor(const ParamSpec &s) {
  return (s.baseBits + kMaxPrimeBits - 1) / kMaxPrimeBits;
}
static size_t perLevelFor(const ParamSpec &s) {
  return s.scaleBits <= kMaxPrimeBits ? 1 : 2;
}

static void validate(const ParamSpec &s) {
  auto fail = [](const std::string &m) {
    throw Error("invalid parameters: " + m);
  };
  if (s.logN < 4 || s.logN > 17)
    fail(fmt::format("ring dimension 2^{} is outside 2^4 .. 2^17", s.logN));
  if (s.logSlots >= s.logN)
    fail(fmt::format("2^{} slots do not fit a ring of dimension 2^{}",
                     s.logSlots, s.logN));
  if (s.scaleBits < 16 || s.scaleBits > 2 * kMaxPrimeBits)
    fail(fmt::format("scale 2^{} is outside 2^16 .. 2^60", s.scaleBits));
  if (s.baseBits < s.scaleBits || s.baseBits > 4 * kMaxPrimeBits)
    fail(fmt::format("base modulus of {} bits must hold the scale ({} bits) "
                     "and be at most {} bits",
                     s.baseBits, s.scaleBits, 4 * kMaxPrimeBits));
  if (s.dnum < 1)
    fail("dnum must be at least 1");
  if (s.secret == SecretDistribution::SparseTernary &&
      (s.hammingWeight == 0 || s.hammingWeight > (1u << s.logN)))
    fail("a sparse secret needs a Hamming weight in [1, N]");
  if (s.encapsulationWeight > (1u << s.logN))
    fail("the encapsulation secret's Hamming weight exceeds N");
}

/// log2 of the largest product of a key-switching digit (dnum digits of
/// ceil(|Q| / dnum) consecutive primes).
static double maxDigitBits(const std::vector<uint32_t> &q, unsigned dnum) {
  const size_t alpha = (q.size() + dnum - 1) / dnum;
  double best = 0;
  for (size_t first = 0; first < q.size(); first += alpha) {
    double bits = 0;
    for (size_t i = first; i < std::min(first + alpha, q.size()); ++i)
      bits += std::log2(double(q[i]));
    best = std::max(best, bits);
  }
  return best;
}

/// log2 of the product of `primes`.
static double log2Product(std::span<const uint32_t> primes) {
  double bits = 0;
  for (uint32_t p : primes)
    bits += std::log2(double(p));
  return bits;
}

/// The prime p = 1 mod 2N whose log2 is nearest `logTarget` (at most 30
/// bits), not in `exclude`; 0 if none lies within one bit of it.
static uint32_t nearestPrime(unsigned logN, double logTarget,
                             std::span<const uint32_t> exclude) {
  const uint64_t step = uint64_t(2) << logN;
  const double target = std::exp2(logTarget);
  const auto center = static_cast<uint64_t>(target / double(step));
  auto usable = [&](uint64_t k) {
    uint64_t c = k * step + 1;
    if (k == 0 || c >= (uint64_t(1) << kMaxPrimeBits) ||
        std::fabs(std::log2(double(c)) - logTarget) > 1)
      return false;
    auto p = static_cast<uint32_t>(c);
    return kernels::isPrime(p) &&
           std::find(exclude.begin(), exclude.end(), p) == exclude.end();
  };
  // Outward from the target, the nearer side first at each distance.
  for (uint64_t d = 0; d <= center + 1; ++d) {
    uint64_t below = center >= d ? center - d : 0, above = center + 1 + d;
    bool belowNearer =
        target - double(below * step + 1) < double(above * step + 1) - target;
    for (uint64_t k :
         belowNearer ? std::array{below, above} : std::array{above, below})
      if (usable(k))
        return static_cast<uint32_t>(k * step + 1);
    if (double(below * step + 1) < target / 2 &&
        double(above * step + 1) > target * 2)
      return 0;
  }
  return 0;
}

/// A large ring has few narrow primes, so an even split of the base may
/// overshoot baseBits by bits (three ~23-bit primes at N = 2^16 for a
/// 66-bit base); the base's excess over the scale costs bootstrapping's
/// precision bit for bit. The last base prime then closes the gap.
static void closeBase(const ParamSpec &s, std::vector<uint32_t> &base,
                      std::span<const uint32_t> exclude) {
  if (base.size() < 2)
    return;
  const double others = log2Product(std::span(base).first(base.size() - 1));
  const double all = others + std::log2(double(base.back()));
  if (all < s.baseBits + 0.75)
    return;
  std::vector<uint32_t> taken(exclude.begin(), exclude.end());
  taken.insert(taken.end(), base.begin(), base.end());
  if (uint32_t p = nearestPrime(s.logN, s.baseBits - others, taken))
    if (std::fabs(others + std::log2(double(p)) - s.baseBits) <
        all - s.baseBits)
      base.back() = p;
}

/// Picks k primes per level, top level first, so that Delta_{l-1} =
/// Delta_l^2 / prod(level l primes) stays near 2^scaleBits.
static std::vector<std::vector<uint32_t>>
chooseLevelPrimes(const ParamSpec &s, size_t k, std::vector<uint32_t> pool) {
  std::vector<std::vector<uint32_t>> levels(s.levels + 1);
  double logScale = s.scaleBits;
  for (unsigned l = s.levels; l >= 1; --l) {
    double target = 2 * logScale - s.scaleBits;
    double best = std::numeric_limits<double>::infinity();
    size_t bi = 0, bj = 0;
    for (size_t i = 0; i < pool.size(); ++i) {
      double li = std::log2(double(pool[i]));
      if (k == 1) {
        if (std::fabs(li - target) < best)
          best = std::fabs(li - target), bi = i;
        continue;
      }
      for (size_t j = i + 1; j < pool.size(); ++j) {
        double d = std::fabs(li + std::log2(double(pool[j])) - target);
        if (d < best)
          best = d, bi = i, bj = j;
      }
    }
    std::vector<uint32_t> chosen{pool[bi]};
    if (k == 2)
      chosen.push_back(pool[bj]);
    double logProd = 0;
    for (uint32_t p : chosen)
      logProd += std::log2(double(p));
    logScale = 2 * logScale - logProd;
    // Erase higher index first so the lower one stays valid.
    if (k == 2)
      pool.erase(pool.begin() + std::max(bi, bj));
    pool.erase(pool.begin() + (k == 2 ? std::min(bi, bj) : bi));
    levels[l] = std::move(chosen);
  }
  return levels;
}

ParamsPtr Params::create(const ParamSpec &spec) {
  validate(spec);
  const size_t k = perLevelFor(spec), b = baseCountFor(spec);
  const size_t needed = spec.levels * k;
  std::vector<uint32_t> pool;
  if (needed) {
    // Primes near 2^(scaleBits/k); a pool twice the size needed lets the
    // pairing track the scale, and a tight ring may only give what is needed.
    unsigned lo = static_cast<unsigned>(spec.scaleBits / k);
    unsigned hi = static_cast<unsigned>((spec.scaleBits + k - 1) / k);
    auto fill = [&](size_t want) {
      pool = kernels::primesNearPowerOfTwo(spec.logN, lo,
                                           lo == hi ? want : want / 2, {});
      if (hi != lo) {
        auto more =
            kernels::primesNearPowerOfTwo(spec.logN, hi, want - want / 2, pool);
        pool.insert(pool.end(), more.begin(), more.end());
      }
    };
    try {
      fill(2 * needed + 4);
    } catch (const std::invalid_argument &) {
      try {
        fill(needed);
      } catch (const std::invalid_argument &e) {
        throw Error(std::string("invalid parameters: ") + e.what());
      }
    }
  }
  auto levelPrimes = chooseLevelPrimes(spec, k, pool);
  std::vector<uint32_t> scalePrimes;
  for (auto &lp : levelPrimes)
    scalePrimes.insert(scalePrimes.end(), lp.begin(), lp.end());

  std::vector<uint32_t> q;
  try {
    // baseBits split evenly over b primes; where the ring has too few of
    // that width, the next widths up (a large ring has few narrow primes;
    // bootstrapping's precision wants the base close to baseBits).
    unsigned width = static_cast<unsigned>((spec.baseBits + b - 1) / b);
    for (;; ++width) {
      try {
        q = kernels::generatePrimes(spec.logN, width, b, scalePrimes);
        break;
      } catch (const std::invalid_argument &) {
        if (width >= kMaxPrimeBits)
          throw;
      }
    }
    closeBase(spec, q, scalePrimes);
    q.insert(q.end(), scalePrimes.begin(), scalePrimes.end());
    // P must exceed every digit's product (key-switching noise is
    // digit / P): as many full-width primes as that takes.
    auto p = kernels::generatePrimes(
        spec.logN, kMaxPrimeBits,
        static_cast<size_t>(
            std::ceil(maxDigitBits(q, spec.dnum) / (kMaxPrimeBits - 0.01))),
        q);
    return assemble(spec, std::move(q), std::move(p));
  } catch (const std::invalid_argument &e) {
    throw Error(std::string("invalid parameters: ") + e.what());
  }
}

ParamsPtr Params::assemble(const ParamSpec &spec, std::vector<uint32_t> q,
                           std::vector<uint32_t> p) {
  validate(spec);
  auto params = std::shared_ptr<Params>(new Params());
  Params &P = *params;
  P.s = spec;
  P.logSlots = spec.logSlots ? spec.logSlots : spec.logN - 1;
  P.perLevel = perLevelFor(spec);
  P.base = baseCountFor(spec);
  if (q.size() != P.base + spec.levels * P.perLevel)
    throw Error("invalid parameters: the Q chain does not match the levels");
  P.alpha = (q.size() + spec.dnum - 1) / spec.dnum;
  double logP = 0;
  for (uint32_t prime : p)
    logP += std::log2(double(prime));
  if (logP < maxDigitBits(q, spec.dnum))
    throw Error("invalid parameters: the special primes are smaller than a "
                "key-switching digit");
  std::vector<uint32_t> all = q;
  all.insert(all.end(), p.begin(), p.end());
  auto sorted = all;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
    throw Error("invalid parameters: primes repeat");
  // Before the NTT tables are built: the parameter chooser tries many
  // sets, and most that fail, fail here.
  const double logQP = log2Product(all);
  if (!spec.insecure) {
    unsigned bound = maxLogQP128(spec.logN);
    if (bound == 0)
      throw Error(fmt::format("parameters: no 128-bit security bound is known "
                              "for N = 2^{}; use --insecure for tests",
                              spec.logN));
    if (logQP > bound)
      throw Error(fmt::format(
          "parameters are below 128-bit security: log2(PQ) = {:.1f} exceeds "
          "{} for N = 2^{} (use fewer levels, a larger ring, or --insecure)",
          logQP, bound, spec.logN));
    // The key to the sparse secret lives over [P, Q_0] (Q_0: the base's
    // primes): a sparse secret is secure only under a small modulus.
    if (spec.encapsulationWeight) {
      const unsigned sparse =
          maxLogPQ0Encapsulated128(spec.logN, spec.encapsulationWeight);
      std::vector<uint32_t> pq0(p);
      pq0.insert(pq0.end(), q.begin(), q.begin() + P.base);
      const double logPQ0 = log2Product(pq0);
      if (sparse == 0)
        throw Error(fmt::format(
            "parameters: no 128-bit security bound is known for a sparse "
            "secret of weight {} at N = 2^{}; use --insecure for tests",
            spec.encapsulationWeight, spec.logN));
      if (logPQ0 > sparse)
        throw Error(fmt::format(
            "parameters are below 128-bit security: the key to the sparse "
            "secret (weight {}) has log2(P q_0) = {:.1f} above {} for N = "
            "2^{} (more key-switching digits make P smaller)",
            spec.encapsulationWeight, logPQ0, sparse, spec.logN));
    }
  }
  try {
    P.ctx = std::make_shared<kernels::RnsContext>(spec.logN, all);
  } catch (const std::invalid_argument &e) {
    throw Error(std::string("invalid parameters: ") + e.what());
  }
  for (uint32_t i = 0; i < q.size(); ++i)
    P.qIds.push_back(i);
  for (uint32_t i = 0; i < p.size(); ++i)
    P.pIds.push_back(static_cast<uint32_t>(q.size()) + i);
  P.extIds = P.pIds;
  P.extIds.insert(P.extIds.end(), P.qIds.begin(), P.qIds.end());

  P.scales.assign(spec.levels + 1, 0.0);
  double logScale = spec.scaleBits;
  P.scales[spec.levels] = std::ldexp(1.0, spec.scaleBits);
  for (unsigned l = spec.levels; l >= 1; --l) {
    double logProd = 0;
    for (size_t i = P.qCount(l - 1); i < P.qCount(l); ++i)
      logProd += std::log2(double(q[i]));
    logScale = 2 * logScale - logProd;
    P.scales[l - 1] = std::exp2(logScale);
  }

  // Too few NTT primes near 2^(scaleBits/k) for this ring make the greedy
  // pairing drift: refuse rather than hand out a collapsing scale chain.
  for (unsigned l = 0; l <= spec.levels; ++l)
    if (std::fabs(std::log2(P.scales[l]) - spec.scaleBits) > 2)
      throw Error(fmt::format(
          "invalid parameters: N = 2^{} has too few NTT primes near 2^{} to "
          "keep a 2^{} scale over {} levels (level {} would have scale "
          "2^{:.1f}); use a larger scale",
          spec.logN, spec.scaleBits / P.perLevel, spec.scaleBits, spec.levels,
          l, std::log2(P.scales[l])));

  ByteWriter w;
  P.serialize(w);
  P.fp = hashBytes(w.buffer(), 0xce51);
  return params;
}

double Params::logProduct(std::span<const uint32_t> ids) const {
  double bits = 0;
  for (uint32_t id : ids)
    bits += std::log2(double(prime(id)));
  return bits;
}

double Params::logQ() const { return logProduct(qIds); }

double Params::logQP() const { return logQ() + logProduct(pIds); }

double Params::logQ0() const { return logProduct(qPrimeIds(0)); }

/// Set in the serialized secret-distribution byte when an encapsulation
/// weight follows the Hamming weight. Sets without encapsulation serialize
/// exactly as before it existed, so their fingerprints (and every file
/// stamped with one) stay valid.
static constexpr uint8_t kEncapsulationFlag = 0x80;

void Params::serialize(ByteWriter &w) const {
  w.put<uint32_t>(s.logN);
  w.put<uint32_t>(s.logSlots);
  w.put<uint32_t>(s.levels);
  w.put<uint32_t>(s.scaleBits);
  w.put<uint32_t>(s.baseBits);
  w.put<uint32_t>(s.dnum);
  w.put<uint8_t>(static_cast<uint8_t>(s.secret) |
                 (s.encapsulationWeight ? kEncapsulationFlag : 0));
  w.put<uint32_t>(s.hammingWeight);
  if (s.encapsulationWeight)
    w.put<uint32_t>(s.encapsulationWeight);
  w.put<uint8_t>(s.insecure ? 1 : 0);
  std::vector<uint32_t> q, p;
  for (uint32_t id : qIds)
    q.push_back(prime(id));
  for (uint32_t id : pIds)
    p.push_back(prime(id));
  w.putArray<uint32_t>(q);
  w.putArray<uint32_t>(p);
}

ParamsPtr Params::deserialize(ByteReader &r) {
  ParamSpec spec;
  spec.logN = r.get<uint32_t>();
  spec.logSlots = r.get<uint32_t>();
  spec.levels = r.get<uint32_t>();
  spec.scaleBits = r.get<uint32_t>();
  spec.baseBits = r.get<uint32_t>();
  spec.dnum = r.get<uint32_t>();
  const uint8_t secret = r.get<uint8_t>();
  const bool encapsulation = secret & kEncapsulationFlag;
  if ((secret & ~kEncapsulationFlag) > 1)
    r.fail("unknown secret distribution");
  spec.secret = static_cast<SecretDistribution>(secret & ~kEncapsulationFlag);
  spec.hammingWeight = r.get<uint32_t>();
  if (encapsulation) {
    spec.encapsulationWeight = r.get<uint32_t>();
    // Zero would serialize without the flag: a second encoding of one set.
    if (spec.encapsulationWeight == 0)
      r.fail("encapsulation flagged with a Hamming weight of 0");
  }
  spec.insecure = r.get<uint8_t>() != 0;
  auto q = r.getArray<uint32_t>(4096);
  auto p = r.getArray<uint32_t>(4096);
  return assemble(spec, std::move(q), std::move(p));
}

double Params::logPQ0() const { return logProduct(extendedPrimeIds(0)); }

std::string Params::describe() const {
  std::string encapsulation;
  if (s.encapsulationWeight)
    encapsulation =
        fmt::format(", encapsulation h' = {} (log2(P q_0) = {:.0f})",
                    s.encapsulationWeight, logPQ0());
  return fmt::format("N = 2^{}, {} slots, {} levels x {} prime(s), scale 2^{}, "
                     "q_0 2^{:.1f}, log2(PQ) = {:.0f}, dnum = {}{}{}",
                     s.logN, slots(), s.levels, perLevel, s.scaleBits, logQ0(),
                     logQP(), s.dnum, encapsulation,
                     s.insecure ? " (INSECURE)" : " (128-bit)");
}

} // namespace cerium::ckks

namespace cerium::ckks {

ParamsPtr chooseParams(int64_t slots, unsigned levels, double precision,
                       bool insecure, unsigned logN, unsigned hammingWeight,
                       unsigned encapsulationWeight, unsigned widerBase,
                       unsigned levelZeroBits) {
  unsigned logSlots = 1;
  while ((int64_t(1) << logSlots) < slots)
    ++logSlots;
  ParamSpec spec;
  spec.levels = levels;
  spec.insecure = insecure;
  if (hammingWeight) {
    spec.secret = SecretDistribution::SparseTernary;
    spec.hammingWeight = hammingWeight;
  }
  // Encapsulation keeps a dense secret, and bootstraps all the same.
  spec.encapsulationWeight = encapsulationWeight;
  const bool bootstraps = hammingWeight || encapsulationWeight;
  // Bootstrapping's precision is the scale's bits less the noise of its
  // levels, log2 of the overflow bound and log2(q_0 / Delta_0): it wants a
  // large scale and a base only 8 bits above it. There a slot vector at the
  // bound 1 (the largest coefficient, Delta_0) has eps = m / q_0 <= 2^-8,
  // where the arcsine-corrected sine is exact to 3 (2 pi eps)^4 / 40 <=
  // 2^-25 relative; random slots have coefficients ~2^-8 smaller still.
  const unsigned minScale = precision >= std::ldexp(1.0, -15) ? 40 : 50;
  // Bootstraps of values beyond [-1, 1] keep that margin on a base
  // widerBase bits wider (BootstrapConfig::widenBaseFor).
  const unsigned headroom = bootstraps ? 8 + widerBase : 16;
  unsigned first = logN ? logN : std::max(logSlots + 1, insecure ? 8u : 10u);
  unsigned last = logN ? logN : (insecure ? 17u : 16u);
  std::string lastError = "no ring dimension was tried";
  for (unsigned n = first; n <= last; ++n) {
    spec.logN = n;
    spec.logSlots = logSlots < n - 1 ? logSlots : 0;
    if (logSlots > n - 1)
      continue;
    if (bootstraps) {
      // The largest scale whose chain the ring holds (2^59: pairs of
      // primes on both sides of 2^29.5; 2^60 would need primes above
      // 2^30), with the base (of primes the ring has) at most ~10 bits
      // above it; else the best scale less that excess. A long chain takes
      // more key-switching digits (a smaller P) before a smaller scale:
      // the scale's bits are bootstrapping's precision, digits cost only
      // time. A base widened for values beyond [-1, 1] is searched the same
      // way: widening a chain chosen for [-1, 1] would keep its scale and
      // digits but take the bits from bootstrapping's precision, which a
      // deep network's composite approximations cannot spare (ResNet-20's
      // logits came out garbage that way).
      ParamsPtr best;
      double bestMargin = -1e9;
      for (unsigned dnum : {3u, 4u, 5u, 6u, 8u, 10u, 12u}) {
        for (unsigned bits : {59u, 58u, 56u, 54u, 52u, 50u}) {
          spec.scaleBits = bits;
          spec.baseBits = bits + headroom;
          spec.dnum = dnum;
          try {
            ParamsPtr p = Params::create(spec);
            double excess = p->logQ0() - std::log2(p->levelScale(0));
            if (excess <= headroom + 2.5 && bits >= 58)
              return p;
            if (bits - excess > bestMargin)
              bestMargin = bits - excess, best = p;
          } catch (const Error &e) {
            lastError = e.what();
          }
        }
      }
      if (best)
        return best;
      continue;
    }
    // Larger rings have fewer NTT primes of a given width: widen the scale
    // until the chain holds it.
    for (spec.scaleBits = minScale; spec.scaleBits <= 2 * kMaxPrimeBits;
         spec.scaleBits += 2) {
      // Two primes of base at most, unless values at level 0 need more.
      spec.baseBits =
          bootstraps
              ? spec.scaleBits + headroom
              : std::max(std::min(spec.scaleBits + headroom, 2 * kMaxPrimeBits),
                         spec.scaleBits + levelZeroBits);
      const size_t numQ = baseCountFor(spec) + levels * perLevelFor(spec);
      spec.dnum = static_cast<unsigned>(std::min<size_t>(3, numQ));
      try {
        return Params::create(spec);
      } catch (const Error &e) {
        lastError = e.what();
        if (lastError.find("too few NTT primes") == std::string::npos)
          break;
      }
    }
  }
  throw Error(fmt::format("no parameter set fits {} levels on {} slots: {}",
                          levels, int64_t(1) << logSlots, lastError));
}

} // namespace cerium::ckks
