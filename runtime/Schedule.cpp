//===- Schedule.cpp - Executing rns schedules -----------------------------===//

#include "cerium/Runtime/Schedule.h"
#include "cerium/CKKS/Encoder.h"
#include "cerium/CKKS/KeyGenerator.h"
#include "cerium/Dialect/CKKS/IR/CKKSDialect.h"
#include "cerium/Dialect/Poly/IR/RnsLayout.h"
#include "cerium/Dialect/RNS/IR/RNSDialect.h"
#include "cerium/Dialect/SlotValues.h"
#include "cerium/Support/Error.h"
#include "cerium/kernels/CpuBackend.h"
#include "cerium/kernels/HostMemory.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

namespace cerium::runtime {

using namespace mlir;
using kernels::ConstLimbs;
using kernels::ElementwiseProgram;
using kernels::Limbs;

ckks::KeyName keyName(Operation *keySwitch) {
  using Kind = ckks::KeyName::Kind;
  auto k = cast<rns::KeySwitchOp>(keySwitch);
  if (auto g = k.getGalois())
    return {Kind::Galois, uint32_t(*g)};
  if (auto secret = k.getSecret())
    return {*secret == SecretSwitch::ToSparse ? Kind::ToSparse : Kind::ToDense};
  return {Kind::Relin};
}

KeySource::~KeySource() = default;

PlaintextSource::~PlaintextSource() = default;

SlotValueData SectionPlaintexts::values(Operation *encode) {
  // readArtifact checked that every #rns.stored lies in the section.
  auto stored =
      cast<rns::StoredValuesAttr>(cast<rns::EncodeOp>(encode).getValues());
  return {section.data() + stored.getOffset(), size_t(stored.getCount()),
          stored.getF32()};
}

const ckks::SwitchingKey &ResidentKeys::key(const ckks::KeyName &name) {
  if (const ckks::SwitchingKey *k = keys.find(name))
    return *k;
  throw Error("the evaluation keys hold no " + name.describe().substr(4));
}

KeyRequirements requiredKeys(func::FuncOp main) {
  std::optional<RnsLayout> layout = RnsLayout::of(main.getOperation());
  if (!layout)
    throw Error("the program has no prime layout (ckks.rns)");
  KeyRequirements req;
  main.walk([&](rns::KeySwitchOp k) {
    if (auto g = k.getGalois()) {
      // The switch runs over [P, Q_level]: its B's limbs say the level.
      const size_t limbs =
          cast<rns::LimbsType>(k.getB().getType()).getNumLimbs();
      const size_t fixed = size_t(layout->special) + layout->base;
      if (limbs < fixed || (limbs - fixed) % layout->perLevel ||
          (limbs - fixed) / layout->perLevel > layout->maxLevel())
        throw Error("a key switch over " + std::to_string(limbs) +
                    " limbs, the basis of no level");
      const unsigned level = unsigned((limbs - fixed) / layout->perLevel);
      auto [at, fresh] = req.galois.try_emplace(uint32_t(*g), level);
      if (!fresh)
        at->second = std::max(at->second, level);
    } else if (k.getSecret()) {
      req.encapsulation = true;
    } else {
      req.relinearization = true;
    }
  });
  return req;
}

FunctionType ciphertextSignature(func::FuncOp main) {
  auto sig = main->getAttrOfType<TypeAttr>("ckks.signature");
  if (!sig || !isa<FunctionType>(sig.getValue()))
    throw Error("the program has no ciphertext signature (ckks.signature)");
  return cast<FunctionType>(sig.getValue());
}

namespace {

int64_t arenaLimbs(func::FuncOp main) {
  auto limbs = main->getAttrOfType<IntegerAttr>("rns.arena_limbs");
  if (!limbs)
    throw Error("the program has no memory plan (rns.arena_limbs)");
  if (limbs.getInt() < 0 || limbs.getInt() > (int64_t(1) << 32))
    throw Error("the program's memory plan has an implausible arena of " +
                std::to_string(limbs.getInt()) + " limbs");
  return limbs.getInt();
}

kernels::BackendBuffer allocateArena(kernels::RnsBackend &backend,
                                     size_t words) {
  try {
    return kernels::BackendBuffer(backend, words);
  } catch (const std::bad_alloc &) {
    throw Error("cannot allocate the program's arena (" +
                std::to_string(words * 4 >> 20) + " MiB)");
  }
}

} // namespace

ElementwiseProgram compileKernel(Operation *kernelOp, const ckks::Params &p) {
  auto kernel = cast<rns::KernelOp>(kernelOp);
  using Op = ElementwiseProgram::Opcode;
  ElementwiseProgram prog;
  ArrayRef<uint32_t> primes =
      cast<rns::LimbsType>(kernel.getResult(0).getType()).getPrimes();
  prog.numLimbs = primes.size();
  Block &body = kernel.getBody().front();
  prog.numInputs = uint16_t(body.getNumArguments());
  llvm::DenseMap<Value, uint16_t> reg;
  for (BlockArgument a : body.getArguments())
    reg[a] = uint16_t(a.getArgNumber());
  // Appends one constant per limb: f(p_i) for each limb's modulus.
  auto addConstant = [&](auto f) {
    uint16_t index = uint16_t(prog.constants.size() / prog.numLimbs);
    for (uint32_t id : primes) {
      modarith::Modulus m = modarith::makeModulus(p.prime(id));
      uint32_t c = f(m);
      prog.constants.push_back(c);
      prog.constantsShoup.push_back(modarith::shoupQuotient(c, m.value));
    }
    return index;
  };
  for (Operation &op : body.without_terminator()) {
    ElementwiseProgram::Instruction ins{};
    ins.lhs = reg.lookup(op.getOperand(0));
    if (op.getNumOperands() > 1)
      ins.rhs = reg.lookup(op.getOperand(1));
    llvm::TypeSwitch<Operation *>(&op)
        .Case<rns::AddOp>([&](auto) { ins.op = Op::Add; })
        .Case<rns::SubOp>([&](auto) { ins.op = Op::Sub; })
        .Case<rns::MulOp>([&](auto) { ins.op = Op::Mul; })
        .Case<rns::NegateOp>([&](auto) { ins.op = Op::Negate; })
        .Case<rns::MulIntOp>([&](rns::MulIntOp m) {
          ins.op = Op::MulConstant;
          int64_t v = m.getValue();
          ins.rhs = addConstant([&](modarith::Modulus mod) {
            return modarith::fromSigned(v, mod);
          });
        })
        .Case<rns::MulProdOp, rns::MulInvOp>([&](auto m) {
          ins.op = Op::MulConstant;
          bool inverse = isa<rns::MulInvOp>(op);
          ins.rhs = addConstant([&](modarith::Modulus mod) {
            uint32_t prod = 1;
            for (int32_t id : m.getPrimes())
              prod =
                  modarith::mul(prod, p.prime(uint32_t(id)) % mod.value, mod);
            return inverse ? modarith::inverse(prod, mod) : prod;
          });
        })
        .Default([&](Operation *o) {
          throw Error("unsupported op in a kernel: " +
                      o->getName().getStringRef().str());
        });
    reg[op.getResult(0)] = uint16_t(prog.numInputs + prog.code.size());
    prog.code.push_back(ins);
  }
  for (Value v : cast<rns::YieldOp>(body.getTerminator()).getValues())
    prog.outputs.push_back(reg.lookup(v));
  if (auto name = kernel->getAttrOfType<StringAttr>("rns.kernel_name"))
    prog.kernelName = name.str();
  return prog;
}

class ScheduleExecutor::Impl {
public:
  Impl(func::FuncOp main, ckks::ParamsPtr params, kernels::RnsBackend &backend,
       Communicator *communicator)
      : main(main), p(std::move(params)), backend(backend), n(p->degree()),
        samplerPath(kernels::hostCpuPath(backend)),
        arena(allocateArena(backend, size_t(arenaLimbs(main)) * n)),
        comm(communicator) {
    const int64_t ranks = scheduleRanks(main);
    const int64_t size = comm ? comm->size() : 1;
    if (ranks != size)
      throw Error("the schedule is partitioned for " + std::to_string(ranks) +
                  " process(es), this run has " + std::to_string(size));
    if (ranks > 1)
      rank = comm->rank();
    else
      comm = nullptr;
    main.walk([](rns::EncodeOp e) {
      if (e.getInput())
        throw Error("the program reads run-time plaintext input " +
                    std::to_string(*e.getInput()) +
                    " of main, which is not bound (bindPlainInputs)");
    });
    loadPlan();
    touchWrittenRanges();
  }

  void setInputs(const std::vector<ckks::Ciphertext> &inputs);
  /// `identity` names the key set for a device's copies (the EvalKeys
  /// object, or the KeySource that streams them).
  void execute(KeySource &keys, const void *identity,
               const OpObserver &observer);
  std::vector<ckks::Ciphertext> outputs();

  void setDeviceConstants(DeviceConstants form, size_t budget) {
    constantForm = form;
    wholeBudget = budget;
  }
  void setPlaintexts(PlaintextSource *source) { plaintexts = source; }
  void setDeviceBudget(size_t bytes);
  ConstantBytes constantBytes() const { return keptBytes; }

private:
  /// The limbs of a limb-wise op that one backend call computes: positions
  /// in its result's array (increasing), and how many of this process's
  /// limbs precede the first (where an array held owned-only keeps it).
  struct Share {
    std::vector<size_t> positions;
    size_t ordinal = 0;
    size_t first() const { return positions.front(); }
    size_t count() const { return positions.size(); }
    bool contiguous() const {
      return positions.back() - positions.front() + 1 == positions.size();
    }
  };

  /// A value's array as this process holds it: every limb, or (planned for
  /// its rank, `rns.held`) only the limbs of the primes it owns, in order.
  Limbs view(Value v) {
    auto primes = cast<rns::LimbsType>(v.getType()).getPrimes();
    return {arena.data() + size_t(placement.lookup(v)) * n,
            ownedOnly.contains(v) ? ownedPrimes(v.getType()) : primes, n};
  }
  /// The part of `v` a share covers.
  Limbs part(Value v, const Share *share) {
    Limbs all = view(v);
    if (!share)
      return all;
    if (ownedOnly.contains(v))
      return all.slice(share->ordinal, share->count());
    if (!share->contiguous())
      throw Error("internal error: a share of scattered limbs of an array "
                  "held whole");
    return all.slice(share->first(), share->count());
  }
  void loadPlan();
  void execute(Operation *op, KeySource &keys);
  void executeLimbWise(Operation *op, KeySource &keys);
  /// One op on a share of its results' limbs (all of them if null).
  void execute(Operation *op, KeySource &keys, const Share *share);
  void keySwitch(rns::KeySwitchOp op, const ckks::SwitchingKey &key,
                 const Share *share);
  /// Where the key holds the limbs of `share` (positions in the op's
  /// basis), if they are consecutive there.
  std::optional<size_t> heldAt(const ckks::SwitchingKey &key,
                               const Share &share) const;
  void allGather(rns::AllGatherOp op);
  /// A limb-wise concat: each operand's limbs of this process to their
  /// place in the result, in whichever form each array is held.
  void concatOwned(rns::ConcatOp op);
  /// This process's limbs of an array over `type` from `from` to `to`, each
  /// laid out whole (a limb at its position) or owned-only (its owned limbs
  /// in order).
  void copyOwnedLimbs(Type type, uint32_t *to, bool toOwned,
                      const uint32_t *from, bool fromOwned);
  /// Encodes the constant into `parts` (views into its array); a device
  /// backend encodes it whole once and keeps it.
  void encode(rns::EncodeOp op, ArrayRef<Limbs> parts);
  const kernels::BaseConverter &converter(Type from, Type to);
  const ElementwiseProgram &program(rns::KernelOp kernel, const Share *share);
  /// The runs of limbs of an array over `type` whose primes this rank owns
  /// (prime id mod ranks), as (first, count).
  ArrayRef<std::pair<size_t, size_t>> ownedRuns(Type type);
  /// The primes of `type` this rank owns, in order.
  ArrayRef<uint32_t> ownedPrimes(Type type);
  /// This process's limbs of an op's result: one share of them all when
  /// every array the op touches is held owned-only (one backend call), else
  /// one per run of consecutive owned limbs. Made once per op.
  const std::vector<Share> &shares(Operation *op);
  /// The shares of an array over `type`: one of all its owned limbs
  /// (`merged`) or one per run of them.
  std::vector<Share> sharesOf(Type type, bool merged);

  func::FuncOp main;
  ckks::ParamsPtr p;
  kernels::RnsBackend &backend;
  const size_t n;
  /// The CPU path that makes the uniform halves of keys held as seeds.
  const kernels::CpuPath samplerPath;
  kernels::BackendBuffer arena;
  /// Encoders by slot count, each made on its first encode: the program's,
  /// and a wider one for a constant whose period is longer (a bootstrap of
  /// n <= N/4 slots masks the two halves of 2n slots).
  std::map<size_t, ckks::Encoder> encoders;
  /// The values of constants kept outside the program (#rns.stored).
  PlaintextSource *plaintexts = nullptr;
  /// The encoder works in host memory: a CPU backend for its NTTs when the
  /// schedule's backend is not host memory.
  std::unique_ptr<kernels::RnsBackend> hostBackend;
  /// On a device backend, each constant stays in device memory after its
  /// first use: its limbs, copied into place on later runs, or (count > 0)
  /// its `count` integer coefficients, made into limbs at each use (on the
  /// CPU constants are encoded at each use: memory over time).
  struct DeviceConstant {
    kernels::BackendBuffer data;
    size_t count = 0;
  };
  /// Keyed by what the constant is, not by the op that encodes it: the
  /// copies rns-rematerialize-encodes makes of one constant (to keep the
  /// arena small between far-apart uses) share what a device keeps.
  using ConstantKey = std::tuple<const void *, const void *, const void *, bool,
                                 int64_t, int64_t>;
  static ConstantKey constantKey(rns::EncodeOp e) {
    return {e.getValues().getAsOpaquePointer(),
            e.getOffsetAttr().getAsOpaquePointer(),
            e.getCountAttr().getAsOpaquePointer(),
            e.getComplex(),
            int64_t(e.getLevel()),
            int64_t(e.getDegree())};
  }
  std::map<ConstantKey, DeviceConstant> deviceConstants;
  /// On the CPU (one process), a periodic constant whose one use is a
  /// kernel's operand: its compact limbs (nttForwardSignedCompact, `degree`
  /// words each) until that kernel reads them (elementwiseRepeated).
  struct CompactConstant {
    kernels::BackendBuffer words;
    size_t degree = 0;
  };
  llvm::DenseMap<Value, CompactConstant> compactConstants;
  /// Whether the encode making `result` may keep it compact here.
  bool mayStayCompact(Value result) const {
    return backend.hostAccessible() && !comm && constantMayStayCompact(result);
  }
  /// The arena ranges to fault in before the run (offset, limbs), from
  /// loadPlan: every planned array but a constant that may stay compact.
  std::vector<std::pair<int64_t, int64_t>> writtenRanges;
  void touchWrittenRanges();
  DeviceConstants constantForm = DeviceConstants::Whole;
  size_t wholeBudget = SIZE_MAX;
  ConstantBytes keptBytes;
  /// The recorded run, and the keys the device copies and the recording
  /// were made from (other keys start over: copies, warm-up, recording).
  std::unique_ptr<kernels::RecordedWork> recorded;
  const void *keysOnDevice = nullptr;
  /// Every value's offset in the arena, in limbs (read and checked once).
  llvm::DenseMap<Value, int64_t> placement;
  /// Kernel programs by (op, first limb): a limb-wise kernel runs on runs
  /// of its limbs, each with its constants.
  llvm::DenseMap<std::pair<Operation *, size_t>, ElementwiseProgram> programs;
  /// Partitioned schedules: the communicator (null for one process), this
  /// process's rank, the ops that run on one rank (that rank) or limb-wise
  /// (kLimbWise); ops not listed run whole on every rank.
  Communicator *comm = nullptr;
  int64_t rank = 0;
  static constexpr int64_t kLimbWise = -1;
  llvm::DenseMap<Operation *, int64_t> placementOn;
  llvm::DenseMap<Type, std::vector<std::pair<size_t, size_t>>> runs;
  /// Values held owned-only (`rns.held`), and the owned primes by type
  /// (std::map: a view's span points into its vectors).
  llvm::DenseSet<Value> ownedOnly;
  std::map<const void *, std::vector<uint32_t>> owned;
  /// Each limb-wise op's shares, made on its first run (node-based: a
  /// reference stays valid while others are added).
  std::unordered_map<Operation *, std::vector<Share>> shareCache;
  /// Where a limb-wise base conversion puts its (scattered) outputs first.
  kernels::BackendBuffer scratch;
  llvm::DenseMap<std::pair<Type, Type>, std::unique_ptr<kernels::BaseConverter>>
      converters;
  /// Keys copied to backend memory (backends without host access), by
  /// name, while they fit `deviceBudget` beside the constants kept; a key
  /// past it is copied into `keyStaging` at each use instead.
  std::map<ckks::KeyName, std::vector<kernels::BackendBuffer>> deviceKeys;
  std::vector<kernels::BackendBuffer> keyStaging;
  /// A constant past the budget: its coefficients, copied at each use.
  kernels::BackendBuffer constantStaging;
  size_t deviceBudget = SIZE_MAX, deviceKeyBytes = 0;
  /// Of the budget: what constants may not take (room for this process's
  /// keys, which every run reuses, and for the staging copy of one key when
  /// not all of them fit), set by setDeviceBudget from the schedule.
  size_t keyReserve = 0, keyStagingReserve = 0;
  /// Whether a run copied a key or a constant from the host after the
  /// first (such a run cannot be recorded: what it copies changes).
  bool staged = false;
  /// The device's copy of a key (or the staging copy of one past the
  /// budget), a pointer per digit.
  std::vector<const uint32_t *> deviceKey(const ckks::KeyName &name,
                                          const ckks::SwitchingKey &key);
  /// What the device keeps besides the arena.
  size_t deviceKeptBytes() const {
    return deviceKeyBytes + keptBytes.whole + keptBytes.compact;
  }
};

void ScheduleExecutor::Impl::setDeviceBudget(size_t bytes) {
  deviceBudget = bytes;
  // A key serves every key switch of its name in every run, a constant one
  // encode per run: keys come first. Each key this process switches with,
  // as a device holds it: b and a over [P, Q_l] for each digit (over this
  // process's own primes of it for a key its share uses limb-wise only:
  // keySelection), l the level keygen makes it at (the relinearization and
  // s' -> s keys at the top, s -> s' at 0, a Galois key at the highest
  // level of its uses).
  const ckks::KeySelection selection = keySelection(main, int(rank));
  const KeyRequirements required = requiredKeys(main);
  std::map<ckks::KeyName, size_t> keyBytes;
  main.walk([&](rns::KeySwitchOp k) {
    const ckks::KeyName name = keyName(k);
    unsigned level = p->maxLevel();
    if (name.kind == ckks::KeyName::Kind::ToSparse)
      level = 0;
    else if (name.kind == ckks::KeyName::Kind::Galois)
      level = required.galois.at(name.galois);
    keyBytes[name] = ckks::heldKeyBytes(
        *p, level, ckks::EvalKeyFile::keepOf(name, &selection), &selection,
        /*compact=*/false);
  });
  size_t all = 0, largest = 0;
  for (const auto &[name, held] : keyBytes) {
    all += held;
    largest = std::max(largest, held);
  }
  // When not all keys fit, one at a time goes through the staging buffers,
  // which take up to the largest key's bytes.
  keyStagingReserve = all > bytes ? largest : 0;
  keyReserve = std::min(all, bytes - std::min(bytes, keyStagingReserve));
}

std::vector<const uint32_t *>
ScheduleExecutor::Impl::deviceKey(const ckks::KeyName &name,
                                  const ckks::SwitchingKey &key) {
  std::vector<const uint32_t *> data;
  auto copies = deviceKeys.find(name);
  if (copies == deviceKeys.end()) {
    size_t bytes = 0;
    for (const auto &digit : key.digits)
      bytes += digit.size() * 4;
    if (deviceKeptBytes() + keyStagingReserve + bytes > deviceBudget) {
      // Past the budget: through the staging buffers, one per digit (the
      // copies are ordered after the kernels still reading them).
      staged = true;
      keyStaging.resize(std::max(keyStaging.size(), key.digits.size()));
      for (size_t j = 0; j < key.digits.size(); ++j) {
        const auto &digit = key.digits[j];
        if (keyStaging[j].size() < digit.size())
          keyStaging[j] = kernels::BackendBuffer(backend, digit.size());
        backend.copyFromHost(keyStaging[j].data(), digit.data(), digit.size());
        data.push_back(keyStaging[j].data());
      }
      return data;
    }
    copies = deviceKeys.try_emplace(name).first;
    for (const auto &digit : key.digits) {
      copies->second.emplace_back(backend, digit.size());
      backend.copyFromHost(copies->second.back().data(), digit.data(),
                           digit.size());
    }
    deviceKeyBytes += bytes;
  }
  for (const kernels::BackendBuffer &digit : copies->second)
    data.push_back(digit.data());
  return data;
}

const kernels::BaseConverter &ScheduleExecutor::Impl::converter(Type from,
                                                                Type to) {
  auto key = std::make_pair(from, to);
  auto it = converters.find(key);
  if (it == converters.end())
    it = converters
             .try_emplace(key,
                          std::make_unique<kernels::BaseConverter>(
                              p->rns(), cast<rns::LimbsType>(from).getPrimes(),
                              cast<rns::LimbsType>(to).getPrimes()))
             .first;
  return *it->second;
}

std::optional<size_t>
ScheduleExecutor::Impl::heldAt(const ckks::SwitchingKey &key,
                               const Share &share) const {
  if (!key.basisLimbs) // held whole: positions are the key's own
    return share.contiguous() ? std::optional<size_t>(share.first())
                              : std::nullopt;
  // A partial key keeps only its primes' limbs, in order.
  const auto &kept = key.keptLimbs;
  auto at = std::lower_bound(kept.begin(), kept.end(), uint32_t(share.first()));
  if (size_t(kept.end() - at) < share.count())
    return std::nullopt;
  for (size_t i = 0; i < share.count(); ++i)
    if (at[i] != share.positions[i])
      return std::nullopt;
  return size_t(at - kept.begin());
}

void ScheduleExecutor::Impl::keySwitch(rns::KeySwitchOp op,
                                       const ckks::SwitchingKey &key,
                                       const Share *share) {
  const size_t beta = op.getDigits().size();
  if (key.digits.size() < beta)
    throw Error("switching key has too few digits for this program");
  auto primes = cast<rns::LimbsType>(op.getB().getType()).getPrimes();
  // Every key is over some [P, Q_k], a prefix of [P, Q_L] (k = 0 for the
  // key to the sparse secret, a Galois key's highest use for it): the op's
  // basis must be a prefix of that.
  const size_t keyPolyWords = key.polyWords();
  const size_t keyLimbs = key.basisLimbs ? key.basisLimbs : keyPolyWords / n;
  auto keyBasis = p->extendedPrimeIds(p->maxLevel())
                      .first(std::min<size_t>(keyLimbs, p->numP() + p->numQ()));
  if (primes.size() > keyBasis.size() ||
      !std::equal(primes.begin(), primes.end(), keyBasis.begin()))
    throw Error("key switching over a basis that is not a prefix of the "
                "key's");
  if (key.uniformAtUse && !backend.hostAccessible())
    throw Error("internal error: a key whose uniform halves are made at use "
                "on a backend the host cannot address");
  std::vector<const uint32_t *> keyData;
  if (backend.hostAccessible()) {
    for (size_t j = 0; j < beta; ++j)
      keyData.push_back(key.digits[j].data());
  } else {
    keyData = deviceKey(keyName(op), key);
  }
  // Where the limbs this call computes sit in the key as this process
  // holds it (a partial key keeps only its primes' limbs).
  size_t held = 0;
  if (share) {
    std::optional<size_t> at = heldAt(key, *share);
    if (!at)
      throw Error("this process holds a share of a switching key without "
                  "limbs it computes");
    held = *at;
  }
  Limbs out0 = part(op.getB(), share), out1 = part(op.getA(), share);
  std::vector<ConstLimbs> digits, keyB, keyA;
  for (size_t j = 0; j < beta; ++j) {
    digits.push_back(part(op.getDigits()[j], share));
    keyB.push_back({keyData[j] + held * n, out0.primes, n});
    if (!key.uniformAtUse)
      keyA.push_back({keyData[j] + keyPolyWords + held * n, out0.primes, n});
  }
  // Digits read through a rotation (rns-fold-digit-automorph) or as they
  // are.
  const uint32_t rotation = uint32_t(op.getPermute().value_or(0));
  if (!key.uniformAtUse) {
    if (rotation)
      backend.keySwitchInnerProductRotated(out0, out1, digits, keyB, keyA,
                                           rotation);
    else
      backend.keySwitchInnerProduct(out0, out1, digits, keyB, keyA);
    return;
  }
  // a's limbs by their position in [P, Q_L], on the backend's CPU path.
  auto source = ckks::uniformLimbSource(*p, key, samplerPath);
  kernels::RnsBackend::UniformLimbSource remapped;
  size_t firstKeyLimb = share ? share->first() : 0;
  if (share && !share->contiguous()) {
    remapped = [&](size_t digit, size_t limb, std::span<uint32_t> out) {
      source(digit, share->positions[limb], out);
    };
    firstKeyLimb = 0;
  }
  const auto &limbSource = remapped ? remapped : source;
  if (rotation)
    backend.keySwitchInnerProductRotated(out0, out1, digits, keyB, limbSource,
                                         firstKeyLimb, rotation);
  else
    backend.keySwitchInnerProduct(out0, out1, digits, keyB, limbSource,
                                  firstKeyLimb);
}

const ElementwiseProgram &ScheduleExecutor::Impl::program(rns::KernelOp kernel,
                                                          const Share *share) {
  // An op is run in the same shares every time: its first position names
  // one.
  auto key = std::make_pair(kernel.getOperation(), share ? share->first() : 0);
  auto it = programs.find(key);
  if (it != programs.end())
    return it->second;
  ElementwiseProgram prog = compileKernel(kernel, *p);
  if (share && share->count() != prog.numLimbs) {
    // Constants are stored per limb, constant by constant: keep this share's.
    std::vector<uint32_t> kept, keptShoup;
    for (size_t c = 0; c < prog.constants.size() / prog.numLimbs; ++c)
      for (size_t i : share->positions) {
        kept.push_back(prog.constants[c * prog.numLimbs + i]);
        keptShoup.push_back(prog.constantsShoup[c * prog.numLimbs + i]);
      }
    prog.constants = std::move(kept);
    prog.constantsShoup = std::move(keptShoup);
    prog.numLimbs = share->count();
  }
  return programs.try_emplace(key, std::move(prog)).first->second;
}

ArrayRef<std::pair<size_t, size_t>>
ScheduleExecutor::Impl::ownedRuns(Type type) {
  auto it = runs.find(type);
  if (it != runs.end())
    return it->second;
  return runs
      .try_emplace(type,
                   kernels::ownedRuns(cast<rns::LimbsType>(type).getPrimes(),
                                      int(rank), comm->size()))
      .first->second;
}

ArrayRef<uint32_t> ScheduleExecutor::Impl::ownedPrimes(Type type) {
  auto [it, inserted] = owned.try_emplace(type.getAsOpaquePointer());
  if (inserted)
    for (uint32_t id : cast<rns::LimbsType>(type).getPrimes())
      if (kernels::ownerOfPrime(id, comm->size()) == rank)
        it->second.push_back(id);
  return it->second;
}

std::vector<ScheduleExecutor::Impl::Share>
ScheduleExecutor::Impl::sharesOf(Type type, bool merged) {
  std::vector<Share> out;
  size_t ordinal = 0;
  for (auto [first, count] : ownedRuns(type)) {
    if (out.empty() || !merged)
      out.push_back({{}, ordinal});
    for (size_t i = first; i < first + count; ++i)
      out.back().positions.push_back(i);
    ordinal += count;
  }
  return out;
}

const std::vector<ScheduleExecutor::Impl::Share> &
ScheduleExecutor::Impl::shares(Operation *op) {
  auto [it, made] = shareCache.try_emplace(op);
  if (made) {
    auto held = [&](Value v) { return ownedOnly.contains(v); };
    it->second = sharesOf(op->getResult(0).getType(),
                          llvm::all_of(op->getResults(), held) &&
                              llvm::all_of(op->getOperands(), held));
  }
  return it->second;
}

void forEachConcatCopy(
    Operation *concat, llvm::function_ref<bool(Value)> heldOwned,
    llvm::function_ref<ArrayRef<std::pair<size_t, size_t>>(Type)> ownedRuns,
    llvm::function_ref<void(Value, size_t, size_t, size_t)> copy) {
  auto op = cast<rns::ConcatOp>(concat);
  const bool outOwned = heldOwned(op.getResult());
  size_t position = 0, ordinal = 0; // the operand's place in the result
  for (Value v : op.getInputs()) {
    const bool inOwned = heldOwned(v);
    const size_t limbs = cast<rns::LimbsType>(v.getType()).getNumLimbs();
    size_t owned = 0; // the operand's owned limbs so far
    if (!outOwned && !inOwned) {
      // Both whole: every limb (the others' may be stale; nothing reads
      // them before a gather).
      copy(v, 0, position, limbs);
    } else {
      for (auto [first, count] : ownedRuns(v.getType())) {
        copy(v, inOwned ? owned : first,
             outOwned ? ordinal + owned : position + first, count);
        owned += count;
      }
    }
    position += limbs;
    ordinal += owned;
  }
}

void ScheduleExecutor::Impl::concatOwned(rns::ConcatOp op) {
  uint32_t *out = view(op.getResult()).data;
  forEachConcatCopy(
      op, [&](Value v) { return ownedOnly.contains(v); },
      [&](Type type) { return ownedRuns(type); },
      [&](Value v, size_t from, size_t to, size_t count) {
        const uint32_t *src = view(v).data + from * n;
        if (src != out + to * n)
          backend.copy(out + to * n, src, count * n);
      });
}

void ScheduleExecutor::Impl::copyOwnedLimbs(Type type, uint32_t *to,
                                            bool toOwned, const uint32_t *from,
                                            bool fromOwned) {
  size_t k = 0; // owned limbs so far
  for (auto [first, count] : ownedRuns(type)) {
    const uint32_t *src = from + (fromOwned ? k : first) * n;
    uint32_t *dst = to + (toOwned ? k : first) * n;
    if (src != dst)
      backend.copy(dst, src, count * n);
    k += count;
  }
}

void ScheduleExecutor::Impl::allGather(rns::AllGatherOp op) {
  Limbs array = view(op.getInput());
  const int64_t source = op.getSourceAttr().getInt();
  // The transport works on host memory (MPI) or on the backend's (NCCL);
  // limbs travel through a staging buffer of that kind.
  const bool inBackendMemory = comm->transport() == "NCCL";
  if (source >= 0) {
    if (source >= comm->size())
      throw Error("the schedule gathers from rank " + std::to_string(source) +
                  ", beyond the run's " + std::to_string(comm->size()));
    if (inBackendMemory || backend.hostAccessible()) {
      backend.synchronize();
      comm->broadcast({array.data, array.numWords()}, int(source));
      return;
    }
    std::vector<uint32_t> staged(array.numWords());
    if (rank == source)
      backend.copyToHost(staged.data(), array.data, staged.size());
    comm->broadcast(staged, int(source));
    backend.copyFromHost(array.data, staged.data(), staged.size());
    return;
  }
  // Limb-wise: rank r contributes its primes' limbs in array order.
  const int64_t ranks = comm->size();
  auto primes = cast<rns::LimbsType>(op.getInput().getType()).getPrimes();
  std::vector<size_t> counts(size_t(ranks), 0);
  for (uint32_t prime : primes)
    counts[size_t(kernels::ownerOfPrime(prime, int(ranks)))] += n;
  size_t offset = 0;
  std::vector<size_t> starts;
  for (size_t c : counts) {
    starts.push_back(offset);
    offset += c;
  }
  kernels::BackendBuffer deviceStage;
  std::vector<uint32_t> hostStage;
  uint32_t *stage;
  if (inBackendMemory) {
    deviceStage = kernels::BackendBuffer(backend, array.numWords());
    stage = deviceStage.data();
  } else {
    hostStage.resize(array.numWords());
    stage = hostStage.data();
  }
  // Moves limb i between the array and its place in the stage.
  std::vector<size_t> next = starts;
  auto move = [&](size_t i, bool toStage) {
    size_t owner = size_t(kernels::ownerOfPrime(primes[i], int(ranks)));
    uint32_t *staged = stage + next[owner];
    next[owner] += n;
    uint32_t *limb = array.limb(i);
    if (inBackendMemory)
      backend.copy(toStage ? staged : limb, toStage ? limb : staged, n);
    else if (toStage)
      backend.copyToHost(staged, limb, n);
    else
      backend.copyFromHost(limb, staged, n);
  };
  for (size_t i = 0; i < primes.size(); ++i)
    if (kernels::ownerOfPrime(primes[i], int(ranks)) == rank)
      move(i, true);
  // In place: this rank's part is already in its slot of the stage.
  backend.synchronize(); // the transport reads what the backend wrote
  comm->allGather({stage + starts[size_t(rank)], counts[size_t(rank)]},
                  {stage, array.numWords()}, counts);
  next = starts;
  for (size_t i = 0; i < primes.size(); ++i) {
    if (kernels::ownerOfPrime(primes[i], int(ranks)) == rank) {
      next[size_t(rank)] += n; // already in place
      continue;
    }
    move(i, false);
  }
}

void ScheduleExecutor::Impl::execute(Operation *op, KeySource &keys) {
  auto on = placementOn.find(op);
  if (on == placementOn.end()) {
    execute(op, keys, nullptr);
    return;
  }
  if (on->second != kLimbWise) {
    if (on->second == rank)
      execute(op, keys, nullptr);
    return;
  }
  executeLimbWise(op, keys);
}

void ScheduleExecutor::Impl::executeLimbWise(Operation *op, KeySource &keys) {
  // Every op's limbs are those of its first result.
  if (op->getNumResults() == 0 || isa<rns::SliceOp>(op)) {
    execute(op, keys, nullptr);
    return;
  }
  if (auto c = dyn_cast<rns::ConcatOp>(op)) {
    concatOwned(c);
    return;
  }
  auto owned = ownedRuns(op->getResult(0).getType());
  if (owned.empty())
    return; // none of its primes is this process's
  if (auto e = dyn_cast<rns::EncodeOp>(op)) {
    // One transform of the slots for all of this process's limbs.
    Limbs whole = view(e.getResult());
    SmallVector<Limbs> parts;
    if (ownedOnly.contains(e.getResult()))
      parts.push_back(whole);
    else
      for (auto [first, count] : owned)
        parts.push_back(whole.slice(first, count));
    encode(e, parts);
    return;
  }
  auto b = dyn_cast<rns::BaseConvertOp>(op);
  if (b && (ownedOnly.contains(b.getResult()) || owned.size() > 1)) {
    // One conversion to all of this process's output limbs (its input side,
    // the bulk of the work, is shared by them): straight into a result held
    // owned-only, else into scratch and each run to its place.
    Type type = b.getResult().getType();
    ArrayRef<uint32_t> primes = ownedPrimes(type);
    const bool direct = ownedOnly.contains(b.getResult());
    uint32_t *out = view(b.getResult()).data;
    if (!direct && scratch.size() < primes.size() * n)
      scratch = kernels::BackendBuffer(backend, primes.size() * n);
    backend.baseConvert(converter(b.getInput().getType(),
                                  rns::LimbsType::get(b.getContext(), primes)),
                        Limbs{direct ? out : scratch.data(), primes, n},
                        view(b.getInput()));
    if (!direct)
      copyOwnedLimbs(type, out, false, scratch.data(), true);
    return;
  }
  const std::vector<Share> &parts = shares(op);
  if (auto k = dyn_cast<rns::KeySwitchOp>(op)) {
    // The key once for all shares (a streamed key is fetched per call); a
    // key held whole has this process's limbs apart: one call per run.
    const ckks::SwitchingKey &key = keys.key(keyName(k));
    if (parts.size() == 1 && !heldAt(key, parts.front())) {
      for (const Share &run : sharesOf(k.getB().getType(), false))
        keySwitch(k, key, &run);
      return;
    }
    for (const Share &share : parts)
      keySwitch(k, key, &share);
    return;
  }
  for (const Share &share : parts)
    execute(op, keys, &share);
}

void ScheduleExecutor::Impl::encode(rns::EncodeOp e, ArrayRef<Limbs> parts) {
  Limbs out = view(e.getResult());
  // A device keeps each constant whole; an array held owned-only takes
  // this process's limbs of it.
  auto place = [&](const uint32_t *whole) {
    if (ownedOnly.contains(e.getResult()))
      copyOwnedLimbs(e.getType(), out.data, true, whole, false);
    else
      backend.copy(out.data, whole, out.numWords());
  };
  auto expand = [&](const DeviceConstant &c) {
    for (const Limbs &part : parts)
      backend.nttForwardSignedResident(part, c.data.data(), c.count);
  };
  if (auto it = deviceConstants.find(constantKey(e));
      it != deviceConstants.end()) {
    if (it->second.count)
      expand(it->second);
    else
      place(it->second.data.data());
    return;
  }
  unsigned level = unsigned(e.getLevel());
  double scale = std::pow(p->levelScale(level), double(e.getDegree()));
  // Compact storage expands on the host, after a bound: the artifact's
  // checksum does not make offset + count sane. Complex values past the
  // program's slots are a vector of a longer period, up to the ring's N/2
  // slots (a bootstrap's factors over 2n slots); complex values are stored
  // whole, so their length is their period. Real ones are trimmed of
  // trailing zeros and cannot say theirs: the program's.
  SlotValueData stored = e.getStoredValues();
  const int64_t end =
      slotValueEnd(stored, e.getOffset(), e.getCount(), e.getComplex());
  if (end > int64_t(e.getComplex() ? p->degree() / 2 : p->slots()))
    throw Error("a plaintext constant fills more slots than the " +
                std::string(e.getComplex() ? "ring" : "parameter set") +
                " has");
  const size_t slots = encoderSlots(end, p->slots());
  if (level > p->maxLevel() ||
      !std::ranges::equal(e.getType().getPrimes(), p->qPrimeIds(level)))
    throw Error("encoded plaintext does not match its limb array");
  auto made = encoders.find(slots);
  if (made == encoders.end())
    made = encoders.try_emplace(slots, p, slots).first;
  const ckks::Encoder &encoder = made->second;
  if (!stored.data) {
    if (!plaintexts)
      throw Error("the program's constants lie in its artifact's constant "
                  "section, which this run was not given");
    stored = plaintexts->values(e);
  }
  std::vector<std::complex<double>> values = expandEncodeSlotValues(
      stored, e.getOffset(), e.getCount(), e.getComplex());
  if (backend.hostAccessible()) {
    // A constant of a short period (a DFT diagonal of narrow butterflies, a
    // matrix diagonal of period d) whose one use is a kernel's operand stays
    // compact: its limbs are its size-M transforms, which the kernel reads
    // where they are; spread over whole limbs they would be written here
    // and read back once. Otherwise straight into the arena: the limbs this
    // process computes.
    Value result = e.getResult();
    // (Coefficients past 2^62, values of large magnitude at a bootstrapping
    // scale, only encodeInto writes: whole limbs.)
    std::optional<std::vector<int64_t>> small;
    if (parts.size() == 1 && mayStayCompact(result))
      small =
          encoder.trySignedCoefficients(values, scale, backend.hostThreads());
    if (small) {
      std::vector<int64_t> &coefficients = *small;
      const size_t m = coefficients.size();
      if (m == n) {
        backend.nttForwardSigned(parts[0], coefficients);
        return;
      }
      CompactConstant compact{
          kernels::BackendBuffer(backend, parts[0].numLimbs() * m), m};
      backend.nttForwardSignedCompact(
          {compact.words.data(), parts[0].primes, m}, coefficients);
      compactConstants[result] = std::move(compact);
      return;
    }
    encoder.encodeInto(values, scale, level, parts, backend);
    return;
  }
  // A device keeps each constant after its first use, whole or compact
  // (either serves every later run, whatever share of it a process uses).
  auto primes = p->qPrimeIds(level);
  const size_t words = primes.size() * n;
  // Within the device's budget less the keys' reserve a constant is kept
  // (whole if it fits so); past it, its coefficients go through the
  // staging buffer at each use.
  // (The estimate of the keys' bytes may fall short of the keys given: a
  // constant must also fit beside what is kept.)
  const size_t constantRoom =
      deviceBudget - std::min(deviceBudget, keyReserve + keyStagingReserve);
  const size_t constantsKept = keptBytes.whole + keptBytes.compact;
  auto fits = [&](size_t more) {
    return constantsKept + more <= constantRoom &&
           deviceKeptBytes() + more <= deviceBudget;
  };
  // Coefficients past 2^62 (large values at a large scale) have no signed
  // form for the device's transform: the host reduces them per prime and
  // transforms them (Encoder::encodeInto, which also checks them against the
  // level's modulus), so they are kept whole where they fit, else copied
  // from the host at each use.
  std::optional<std::vector<int64_t>> small =
      encoder.trySignedCoefficients(values, scale, backend.hostThreads());
  // The constant's limbs (NTT form) made on the host.
  auto hostLimbs = [&] {
    if (!hostBackend)
      hostBackend = kernels::createCpuBackend(p->rns());
    std::vector<uint32_t> limbs(words);
    const kernels::Limbs host{limbs.data(), primes, n};
    if (small)
      hostBackend->nttForwardSigned(host, *small);
    else
      encoder.encodeInto(values, scale, level, {&host, 1}, *hostBackend);
    return limbs;
  };
  bool whole = !small || constantForm == DeviceConstants::Whole ||
               (constantForm == DeviceConstants::Auto &&
                keptBytes.whole + keptBytes.compact + words * 4 <= wholeBudget);
  if (whole && !fits(words * 4))
    whole = false;
  if (!whole && (!small || !fits(8 * small->size()))) {
    staged = true;
    ++keptBytes.stagedCount;
    if (!small) {
      if (constantStaging.size() < words)
        constantStaging = kernels::BackendBuffer(backend, words);
      backend.copyFromHost(constantStaging.data(), hostLimbs().data(), words);
      place(constantStaging.data());
      return;
    }
    const std::vector<int64_t> &coefficients = *small;
    if (constantStaging.size() < 2 * coefficients.size())
      constantStaging =
          kernels::BackendBuffer(backend, 2 * coefficients.size());
    backend.copyFromHost(
        constantStaging.data(),
        reinterpret_cast<const uint32_t *>(coefficients.data()),
        2 * coefficients.size());
    for (const Limbs &part : parts)
      backend.nttForwardSignedResident(part, constantStaging.data(),
                                       coefficients.size());
    return;
  }
  DeviceConstant kept;
  if (whole) {
    kept.data = kernels::BackendBuffer(backend, words);
    backend.copyFromHost(kept.data.data(), hostLimbs().data(), words);
    place(kept.data.data());
    keptBytes.whole += words * 4;
    ++keptBytes.wholeCount;
  } else {
    const std::vector<int64_t> &coefficients = *small;
    kept.count = coefficients.size();
    kept.data = kernels::BackendBuffer(backend, 2 * kept.count);
    backend.copyFromHost(
        kept.data.data(),
        reinterpret_cast<const uint32_t *>(coefficients.data()),
        2 * kept.count);
    expand(kept);
    keptBytes.compact += 8 * kept.count;
    ++keptBytes.compactCount;
  }
  deviceConstants.try_emplace(constantKey(e), std::move(kept));
}

void ScheduleExecutor::Impl::execute(Operation *op, KeySource &keys,
                                     const Share *share) {
  auto inPlace = [&](Value in, Value out) {
    Limbs o = part(out, share), i = part(in, share);
    if (o.data != i.data)
      backend.copy(o.data, i.data, o.numWords());
    return o;
  };
  llvm::TypeSwitch<Operation *>(op)
      .Case<rns::KernelOp>([&](rns::KernelOp k) {
        const ElementwiseProgram &prog = program(k, share);
        std::vector<Limbs> outs;
        std::vector<ConstLimbs> ins;
        std::vector<uint32_t> repeats;
        for (Value v : k.getOutputs())
          outs.push_back(part(v, share));
        for (Value v : k.getInputs()) {
          auto compact = compactConstants.find(v);
          if (compact == compactConstants.end()) {
            ins.push_back(part(v, share));
            repeats.push_back(1);
            continue;
          }
          if (share)
            throw Error("internal error: a compact constant in a share");
          const CompactConstant &c = compact->second;
          ins.push_back({c.words.data(),
                         cast<rns::LimbsType>(v.getType()).getPrimes(),
                         c.degree});
          repeats.push_back(uint32_t(n / c.degree));
        }
        if (llvm::all_of(repeats, [](uint32_t g) { return g == 1; })) {
          backend.elementwise(prog, outs, ins);
          return;
        }
        backend.elementwiseRepeated(prog, outs, ins, repeats);
        // This kernel was each compact constant's one use.
        for (Value v : k.getInputs())
          compactConstants.erase(v);
      })
      .Case<rns::NttOp>([&](rns::NttOp o) {
        backend.nttForward(inPlace(o.getInput(), o.getResult()));
      })
      .Case<rns::InttOp>([&](rns::InttOp o) {
        backend.nttInverse(inPlace(o.getInput(), o.getResult()));
      })
      .Case<rns::AllGatherOp>([&](rns::AllGatherOp g) { allGather(g); })
      .Case<rns::SliceOp>([&](auto) {})
      .Case<rns::ConcatOp>([&](rns::ConcatOp c) {
        uint32_t *at = view(c.getResult()).data;
        for (Value v : c.getInputs()) {
          Limbs in = view(v);
          if (in.data != at) // the planner may have computed it in place
            backend.copy(at, in.data, in.numWords());
          at += in.numWords();
        }
      })
      .Case<rns::BaseConvertOp>([&](rns::BaseConvertOp b) {
        // A share of the outputs needs every input limb.
        Limbs out = part(b.getResult(), share);
        backend.baseConvert(
            converter(b.getInput().getType(),
                      rns::LimbsType::get(b.getContext(), out.primes)),
            out, view(b.getInput()));
      })
      .Case<rns::AutomorphOp>([&](rns::AutomorphOp a) {
        backend.automorphism(part(a.getResult(), share),
                             part(a.getInput(), share), uint32_t(a.getGalois()),
                             kernels::Domain::Ntt);
      })
      .Case<rns::KeySwitchOp>([&](rns::KeySwitchOp k) {
        keySwitch(k, keys.key(keyName(k)), share);
      })
      .Case<rns::EncodeOp>(
          [&](rns::EncodeOp e) { encode(e, part(e.getResult(), share)); })
      .Default([&](Operation *o) {
        throw Error("cannot execute '" + o->getName().getStringRef().str() +
                    "'");
      });
}

void ScheduleExecutor::Impl::loadPlan() {
  // An artifact's checksum proves it arrived whole, not that its plan is
  // sane: every array must name primes of the parameter set and lie inside
  // the arena before any kernel touches memory.
  const uint32_t totalPrimes = uint32_t(p->numQ() + p->numP());
  const int64_t arenaSize = arenaLimbs(main);
  // A plan with arrays held owned-only is one process's.
  if (auto planRank = main->getAttrOfType<IntegerAttr>("rns.plan_rank"))
    if (!comm || planRank.getInt() != rank)
      throw Error("the schedule's memory plan is for process " +
                  std::to_string(planRank.getInt()) + ", not this one");
  auto check = [&](Value v, int64_t offset) {
    auto l = dyn_cast<rns::LimbsType>(v.getType());
    if (!l)
      throw Error("the program has a value that is not a limb array");
    for (uint32_t id : l.getPrimes())
      if (id >= totalPrimes)
        throw Error("the program names prime " + std::to_string(id) +
                    ", beyond its parameter set");
    const int64_t limbs = ownedOnly.contains(v) ? int64_t(ownedPrimes(l).size())
                                                : int64_t(l.getNumLimbs());
    if (offset < 0 || offset + limbs > arenaSize)
      throw Error("the program's memory plan places an array outside its "
                  "arena");
    placement[v] = offset;
    if (backend.hostAccessible() &&
        !(v.getDefiningOp<rns::EncodeOp>() && mayStayCompact(v)))
      writtenRanges.push_back({offset, limbs});
  };
  auto args = main->getAttrOfType<DenseI64ArrayAttr>("rns.arg_offsets");
  if (!args || size_t(args.size()) != main.getNumArguments())
    throw Error("the program has no memory plan for its arguments");
  for (BlockArgument a : main.getArguments())
    check(a, args[a.getArgNumber()]);
  for (Operation &op : main.getBody().front().without_terminator()) {
    auto offsets = op.getAttrOfType<DenseI64ArrayAttr>("rns.offsets");
    if (!offsets || size_t(offsets.size()) != op.getNumResults())
      throw Error("op without a memory plan: " +
                  op.getName().getStringRef().str());
    // Arrays held in part (`rns.held`, rns-plan-memory for one rank): 1,
    // this process's limbs; 2, none (made on another process, not read
    // here: never touched).
    auto held = op.getAttrOfType<DenseI64ArrayAttr>("rns.held");
    if (held && (size_t(held.size()) != op.getNumResults() ||
                 !main->hasAttr("rns.plan_rank") ||
                 llvm::any_of(held.asArrayRef(),
                              [](int64_t f) { return f < 0 || f > 2; })))
      throw Error("the program's memory plan holds arrays in part but is "
                  "no process's plan");
    for (OpResult r : op.getResults()) {
      const int64_t form = held ? held[r.getResultNumber()] : 0;
      if (form == 1)
        ownedOnly.insert(r);
      if (form != 2)
        check(r, offsets[r.getResultNumber()]);
    }
    if (auto on = op.getAttr("rns.on")) {
      if (!comm)
        throw Error("the schedule places ops on processes but is not "
                    "partitioned for several");
      auto limbWise = dyn_cast<StringAttr>(on);
      auto single = dyn_cast<IntegerAttr>(on);
      if (!(limbWise && limbWise.getValue() == "limbs") &&
          !(single && single.getInt() >= 0 &&
            single.getInt() < scheduleRanks(main)))
        throw Error("the schedule places an op on no rank of its run");
      placementOn[&op] = limbWise ? kLimbWise : single.getInt();
    }
    if (auto gather = dyn_cast<rns::AllGatherOp>(op))
      if (!comm || gather.getSourceAttr().getInt() >= comm->size())
        throw Error("the schedule gathers limbs but runs in one process");
  }
}

bool constantMayStayCompact(Value encoded) {
  return encoded.hasOneUse() && isa<rns::KernelOp>(*encoded.user_begin());
}

// The arena's pages are faulted in before the run, as a server that keeps
// its arena between requests has them. Ranges planned only for constants
// that may stay compact are left alone: on the CPU most are never written
// (a full-period one is, and faults its own pages then), and faulting them
// in would only raise the resident set.
void ScheduleExecutor::Impl::touchWrittenRanges() {
  if (!backend.hostAccessible())
    return;
  std::sort(writtenRanges.begin(), writtenRanges.end());
  int64_t begin = 0, end = 0;
  auto touch = [&] {
    if (end > begin)
      kernels::touchPages(arena.data() + size_t(begin) * n,
                          size_t(end - begin) * n);
  };
  for (auto [offset, limbs] : writtenRanges) {
    if (offset > end) {
      touch();
      begin = offset;
    }
    end = std::max(end, offset + limbs);
  }
  touch();
  writtenRanges = {};
}

void ScheduleExecutor::Impl::setInputs(
    const std::vector<ckks::Ciphertext> &inputs) {
  FunctionType sig = ciphertextSignature(main);
  if (inputs.size() != sig.getNumInputs())
    throw Error("the program takes " + std::to_string(sig.getNumInputs()) +
                " inputs, got " + std::to_string(inputs.size()));
  Block &block = main.getBody().front();
  unsigned arg = 0;
  for (auto [i, type] : llvm::enumerate(sig.getInputs())) {
    auto ct = cast<ckks::CiphertextType>(type);
    const ckks::Ciphertext &in = inputs[i];
    double scale = std::pow(p->levelScale(ct.getLevel()), ct.getDegree());
    if (in.level() != ct.getLevel() || in.size() != ct.getSize())
      throw Error("input " + std::to_string(i) + " is at level " +
                  std::to_string(in.level()) + ", the program expects level " +
                  std::to_string(ct.getLevel()));
    if (std::fabs(in.scale / scale - 1) > 1e-9)
      throw Error("input " + std::to_string(i) +
                  " is not at the scale the program expects");
    for (size_t k = 0; k < in.size(); ++k) {
      Limbs dst = view(block.getArgument(arg++));
      backend.copyFromHost(dst.data, in.value.poly(*p, k).data, dst.numWords());
    }
  }
}

void ScheduleExecutor::Impl::execute(KeySource &keys, const void *identity,
                                     const OpObserver &observer) {
  Block &block = main.getBody().front();
  const size_t total = block.getOperations().size() - 1;
  auto runOps = [&] {
    size_t done = 0;
    for (Operation &op : block.without_terminator()) {
      auto started = std::chrono::steady_clock::now();
      execute(&op, keys);
      if (observer) {
        backend.synchronize();
        observer(++done, total, &op,
                 std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - started)
                     .count());
      }
    }
  };
  // On a device backend the first run warms up (keys, constants and kernel
  // tables reach the device), the second is recorded (a CUDA graph) and
  // later ones replay it. Per-op timing needs the ops one by one.
  if (!backend.hostAccessible() && keysOnDevice != identity) {
    recorded.reset();
    deviceKeys.clear();
    deviceKeyBytes = 0;
    keysOnDevice = identity;
    runOps();
  } else if (observer || backend.hostAccessible() || comm || staged) {
    // Collectives wait on the other processes, and what was staged is
    // copied from the host anew: neither can be replayed.
    runOps();
  } else if (recorded) {
    recorded->replay();
  } else {
    recorded = backend.record(runOps);
  }
  backend.synchronize();
}

std::vector<ckks::Ciphertext> ScheduleExecutor::Impl::outputs() {
  FunctionType sig = ciphertextSignature(main);
  auto ret = cast<func::ReturnOp>(main.getBody().front().getTerminator());
  std::vector<ckks::Ciphertext> outputs;
  unsigned next = 0;
  for (Type type : sig.getResults()) {
    auto ct = cast<ckks::CiphertextType>(type);
    ckks::Ciphertext out{
        ckks::PolyVector::zeros(*p, ct.getLevel(), ct.getSize()),
        std::pow(p->levelScale(ct.getLevel()), ct.getDegree())};
    for (size_t k = 0; k < ct.getSize(); ++k) {
      Limbs src = view(ret.getOperand(next++));
      backend.copyToHost(out.value.poly(*p, k).data, src.data, src.numWords());
    }
    outputs.push_back(std::move(out));
  }
  backend.synchronize();
  return outputs;
}

ScheduleExecutor::ScheduleExecutor(func::FuncOp main, ckks::ParamsPtr params,
                                   kernels::RnsBackend &backend,
                                   Communicator *communicator)
    : impl(std::make_unique<Impl>(main, std::move(params), backend,
                                  communicator)) {}

ScheduleExecutor::~ScheduleExecutor() = default;

void ScheduleExecutor::setInputs(const std::vector<ckks::Ciphertext> &inputs) {
  impl->setInputs(inputs);
}

void ScheduleExecutor::execute(const ckks::EvalKeys &keys,
                               const OpObserver &observer) {
  ResidentKeys resident(keys);
  impl->execute(resident, &keys, observer);
}

void ScheduleExecutor::execute(KeySource &keys, const OpObserver &observer) {
  impl->execute(keys, &keys, observer);
}

std::vector<ckks::Ciphertext> ScheduleExecutor::outputs() {
  return impl->outputs();
}

void ScheduleExecutor::setDeviceConstants(DeviceConstants form,
                                          size_t wholeBudget) {
  impl->setDeviceConstants(form, wholeBudget);
}

void ScheduleExecutor::setPlaintexts(PlaintextSource *source) {
  impl->setPlaintexts(source);
}

void ScheduleExecutor::setDeviceBudget(size_t bytes) {
  impl->setDeviceBudget(bytes);
}

ScheduleExecutor::ConstantBytes ScheduleExecutor::deviceConstantBytes() const {
  return impl->constantBytes();
}

std::vector<ckks::Ciphertext>
ScheduleExecutor::run(const ckks::EvalKeys &keys,
                      const std::vector<ckks::Ciphertext> &inputs,
                      const OpObserver &observer) {
  setInputs(inputs);
  execute(keys, observer);
  return outputs();
}

ckks::KeySelection keySelection(func::FuncOp main, int rank) {
  using Keep = ckks::KeySelection::Keep;
  ckks::KeySelection selection;
  selection.ranks = int(scheduleRanks(main));
  selection.rank = rank;
  // Keys the schedule does not use (a key file made for more) are not held.
  selection.unlisted = Keep::Nothing;
  if (selection.ranks == 1) {
    for (auto [g, level] : requiredKeys(main).galois)
      selection.galois[g] = Keep::All;
    return selection;
  }
  selection.relin = selection.toSparse = selection.toDense = Keep::Nothing;
  for (auto [g, level] : requiredKeys(main).galois)
    selection.galois[g] = Keep::Nothing;
  main.walk([&](rns::KeySwitchOp k) {
    Keep need = Keep::All; // unmarked or on this rank
    if (!runsOn(k, rank))
      need = Keep::Nothing;
    else if (isa_and_nonnull<StringAttr>(k->getAttr("rns.on")))
      need = Keep::OwnLimbs;
    ckks::KeyName name = keyName(k);
    Keep *slot = &selection.relin;
    if (name.kind == ckks::KeyName::Kind::Galois)
      slot = &selection.galois[name.galois];
    else if (name.kind == ckks::KeyName::Kind::ToSparse)
      slot = &selection.toSparse;
    else if (name.kind == ckks::KeyName::Kind::ToDense)
      slot = &selection.toDense;
    *slot = std::max(*slot, need);
  });
  return selection;
}

std::set<ckks::KeyName> reusedKeys(func::FuncOp main) {
  struct Reads {
    int64_t total = 0, largest = 0;
  };
  std::map<ckks::KeyName, Reads> reads;
  main.walk([&](rns::KeySwitchOp k) {
    const int64_t digitLimbs =
        int64_t(k.getDigits().size()) *
        int64_t(cast<rns::LimbsType>(k.getB().getType()).getNumLimbs());
    Reads &r = reads[keyName(k)];
    r.total += digitLimbs;
    r.largest = std::max(r.largest, digitLimbs);
  });
  std::set<ckks::KeyName> reused;
  for (const auto &[name, r] : reads)
    if (double(r.total) >= kReusedKeyFactor * double(r.largest))
      reused.insert(name);
  return reused;
}

bool runsOn(Operation *op, int rank) {
  auto on = op->getAttrOfType<IntegerAttr>("rns.on");
  return !on || on.getInt() == rank;
}

int64_t scheduleRanks(func::FuncOp main) {
  auto ranks = main->getAttrOfType<IntegerAttr>("rns.ranks");
  if (!ranks)
    return 1;
  if (ranks.getInt() < 1 || ranks.getInt() > 4096)
    throw Error("the schedule is partitioned for an implausible " +
                std::to_string(ranks.getInt()) + " processes");
  return ranks.getInt();
}

size_t arenaBytes(func::FuncOp main) {
  auto layout =
      main->getParentOfType<ModuleOp>()->getAttrOfType<DictionaryAttr>(
          "ckks.rns");
  auto logN = layout ? layout.getAs<IntegerAttr>("log_n") : nullptr;
  if (!logN)
    throw Error("the program has no prime layout (ckks.rns)");
  return size_t(arenaLimbs(main)) * (size_t(1) << logN.getInt()) * 4;
}

void bindPlainInputs(func::FuncOp main,
                     const std::vector<const std::vector<double> *> &inputs) {
  main.walk([&](rns::EncodeOp e) {
    std::optional<uint64_t> k = e.getInput();
    if (!k)
      return;
    const std::vector<double> *in =
        *k < inputs.size() ? inputs[size_t(*k)] : nullptr;
    if (!in)
      throw Error("the program encodes main's argument " + std::to_string(*k) +
                  ", which is not a plain input given to the run");
    // Each signed 1-based index becomes that element (negated), 0 a zero.
    std::vector<double> values = storedSlotValues(e.getStoredValues());
    for (double &v : values) {
      const double at = std::fabs(v);
      if (at != std::rint(at) || at > double(in->size()))
        throw Error("a run-time plaintext's encode indexes past its input");
      v = at == 0 ? 0.0 : std::copysign(1.0, v) * (*in)[size_t(at) - 1];
    }
    e.setValuesAttr(DenseF64ArrayAttr::get(e.getContext(), values));
    e.removeInputAttr();
  });
}

std::vector<ckks::Ciphertext>
runSchedule(func::FuncOp main, ckks::ParamsPtr params,
            kernels::RnsBackend &backend, const ckks::EvalKeys &keys,
            std::vector<ckks::Ciphertext> inputs, const OpObserver &observer,
            Communicator *communicator, PlaintextSource *plaintexts) {
  ScheduleExecutor executor(main, std::move(params), backend, communicator);
  executor.setPlaintexts(plaintexts);
  return executor.run(keys, inputs, observer);
}

} // namespace cerium::runtime
