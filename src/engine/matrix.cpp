#include "archetype/matrix.hpp"

#include "engine/huge_pages.hpp"

namespace archetype {

Matrix::Matrix(std::size_t r, std::size_t c) : rows(r), cols(c) { assign_huge(values, r * c, 0.0f); }

}  // namespace archetype
