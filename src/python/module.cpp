// archetype._archetype: the C++ half of the Python package (docs/PYTHON.md).
// A client of the engine (Clusterer) and of the CLI's study (run_pipeline),
// as the CLI is; the Python half (python/archetype/) validates arguments
// the scikit-learn way and calls these functions with NumPy arrays.
#include <pybind11/pybind11.h>

#include "archetype/error.hpp"
#include "python/binding_support.hpp"

PYBIND11_MODULE(_archetype, m) {
  namespace py = pybind11;
  m.doc() = "Archetype's engine (K-Means, the metrics, the fused sweep, the study) for Python";
  m.attr("__version__") = ARCHETYPE_VERSION;
  // The engine's InputError is what the user can fix: a ValueError in
  // Python.  A GPU failure (DeviceError, with backend='cuda') is a
  // RuntimeError.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const archetype::InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const archetype::DeviceError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
  m.attr("NoticeWarning") = archetype::python::notice_warning_class();
  archetype::python::bind_kmeans(m);
  archetype::python::bind_metrics(m);
  archetype::python::bind_sweep(m);
  archetype::python::bind_study(m);
}
