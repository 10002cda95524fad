#include <gtest/gtest.h>
#include "layer_registry.hpp"
TEST(Registry, UnknownTypeListsKnown) {
  moka::LayerParameter p; p.set_name("x"); p.set_type("NoSuchLayer");
  try { moka::LayerRegistry<float>::Create(p); FAIL(); }
  catch (const moka::ConfigError& e) { EXPECT_NE(std::string(e.what()).find("unknown layer type 'NoSuchLayer'"), std::string::npos); }
}
