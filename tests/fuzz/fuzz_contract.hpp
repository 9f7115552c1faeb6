// The contract every fuzz target checks: an input either parses, or is
// refused with archetype::InputError (what the CLI turns into exit code 2,
// "bad input").  Any other exception would reach the user as exit code 1,
// "internal error": it is reported as a finding, like a crash, a leak or UB
// (the sanitizers catch those).
#pragma once

#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>

#include "archetype/error.hpp"

namespace archetype::fuzz {

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz contract violated: %s\n", what.c_str());
  std::abort();  // libFuzzer saves the input as a crash
}

/// Runs `parse`; returns true when it returned, false on an InputError.
template <typename Parse>
bool parses_or_input_error(Parse&& parse) {
  try {
    parse();
    return true;
  } catch (const InputError& e) {
    if (std::string(e.what()).empty()) finding("InputError with an empty message");
    return false;
  } catch (const std::exception& e) {
    finding(std::string("exception ") + typeid(e).name() + " (not InputError): " + e.what());
  } catch (...) {
    finding("an exception that is not a std::exception");
  }
}

/// One OpenMP thread: the CSV chunking is what varies per input; thousands of
/// tiny parallel regions a second would only slow the fuzzer down.
inline void single_threaded() { omp_set_num_threads(1); }

}  // namespace archetype::fuzz
