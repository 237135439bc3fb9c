//===- SecretSwitch.cpp - Keys of sparse-secret encapsulation -------------===//

#include "cerium/Dialect/SecretSwitch.h"

#include "cerium/Dialect/SecretSwitch.cpp.inc"
