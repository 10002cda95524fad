#include "layers/data.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "db.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

namespace moka {
namespace {

constexpr int kRecords = 10;
constexpr int kChannels = 2, kHeight = 3, kWidth = 4;
constexpr int kItem = kChannels * kHeight * kWidth;

/// Pixel j of record i, distinct across records and positions (fits in a byte).
int Pixel(int record, int j) {
  return (record * 25 + j) % 256;
}
int Label(int record) {
  return 100 + 7 * record;
}

/// A database of kRecords raw datums, keys "%08d" in record order.
void WriteDatabase(const std::string& path, int encoded_record = -1,
                   db::Backend backend = db::Backend::kLmdb) {
  auto writer_ptr = db::OpenWriter(backend, path);
  db::Writer& writer = *writer_ptr;
  for (int i = 0; i < kRecords; ++i) {
    Datum datum;
    datum.set_channels(kChannels);
    datum.set_height(kHeight);
    datum.set_width(kWidth);
    datum.set_label(Label(i));
    std::string bytes;
    for (int j = 0; j < kItem; ++j) bytes.push_back(static_cast<char>(Pixel(i, j)));
    datum.set_data(bytes);
    if (i == encoded_record) datum.set_encoded(true);
    char key[16];
    std::snprintf(key, sizeof(key), "%08d", i);
    writer.Put(key, datum.SerializeAsString());
  }
  writer.Commit();
}

template <typename Dtype>
class DataLayerTest : public ::testing::Test {
 protected:
  DataLayerTest() {
    source_ = dir_ / "test_lmdb";
    WriteDatabase(source_);
  }

  std::string LayerText(const std::string& data_param, const std::string& extra = "",
                        const std::string& phase = "TRAIN") const {
    return "name: 'data' type: 'Data' top: 'data' top: 'label' phase: " + phase +
           " data_param { source: '" + source_ + "' backend: LMDB " + data_param + " } " + extra;
  }

  test::TempDir dir_;
  std::string source_;
  Blob<Dtype> data_;
  Blob<Dtype> label_;
  std::vector<Blob<Dtype>*> tops_{&data_, &label_};
};

TYPED_TEST_SUITE(DataLayerTest, test::TestDtypes);

TYPED_TEST(DataLayerTest, ReadsInKeyOrderAndWrapsAround) {
  for (int prefetch : {1, 2, 4}) {
    Context context;
    auto layer = test::MakeLayer<TypeParam>(
        this->LayerText("batch_size: 4 prefetch: " + std::to_string(prefetch),
                        "transform_param { scale: 0.00390625 }"),
        &context);
    layer->SetUp({}, this->tops_);
    EXPECT_EQ(this->data_.shape(), (std::vector<int>{4, kChannels, kHeight, kWidth}));
    EXPECT_EQ(this->label_.shape(), (std::vector<int>{4}));
    int record = 0;
    for (int batch = 0; batch < 6; ++batch) {
      layer->Forward({}, this->tops_);
      ASSERT_EQ(this->data_.shape(), (std::vector<int>{4, kChannels, kHeight, kWidth}));
      for (int n = 0; n < 4; ++n, record = (record + 1) % kRecords) {
        EXPECT_EQ(this->label_.cpu_data()[n], TypeParam(Label(record)))
            << "prefetch " << prefetch << " batch " << batch << " item " << n;
        for (int j = 0; j < kItem; ++j) {
          ASSERT_EQ(this->data_.cpu_data()[n * kItem + j],
                    TypeParam(Pixel(record, j)) * TypeParam(0.00390625f))
              << "record " << record << " pixel " << j;
        }
      }
    }
  }
}

TYPED_TEST(DataLayerTest, BatchLargerThanDatabaseWrapsWithinBatch) {
  Context context;
  auto layer = test::MakeLayer<TypeParam>(this->LayerText("batch_size: 13"), &context);
  layer->SetUp({}, this->tops_);
  layer->Forward({}, this->tops_);
  layer->Forward({}, this->tops_);
  // The second batch holds records 13..25 modulo 10.
  for (int n = 0; n < 13; ++n) {
    const int record = (13 + n) % kRecords;
    EXPECT_EQ(this->label_.cpu_data()[n], TypeParam(Label(record)));
    EXPECT_EQ(this->data_.cpu_data()[n * kItem + 5], TypeParam(Pixel(record, 5)));
  }
}

TYPED_TEST(DataLayerTest, DataTopAlone) {
  Context context;
  auto layer = test::MakeLayer<TypeParam>("type: 'Data' top: 'data' data_param { source: '" +
                                              this->source_ + "' backend: LMDB batch_size: 3 }",
                                          &context);
  std::vector<Blob<TypeParam>*> tops{&this->data_};
  layer->SetUp({}, tops);
  layer->Forward({}, tops);
  layer->Forward({}, tops);
  EXPECT_EQ(this->data_.cpu_data()[0], TypeParam(Pixel(3, 0)));
  EXPECT_EQ(this->data_.cpu_data()[2 * kItem + 1], TypeParam(Pixel(5, 1)));
}

TYPED_TEST(DataLayerTest, OldDataParamTransformFieldsAreHonoured) {
  Context context;
  auto layer = test::MakeLayer<TypeParam>(
      this->LayerText("batch_size: 2 scale: 0.5 crop_size: 2", "", "TEST"), &context);
  layer->SetUp({}, this->tops_);
  EXPECT_EQ(this->data_.shape(), (std::vector<int>{2, kChannels, 2, 2}));
  layer->Forward({}, this->tops_);
  // Centre crop of 3 x 4: offsets (3-2)/2 = 0 and (4-2)/2 = 1.
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < kChannels; ++c)
      for (int h = 0; h < 2; ++h)
        for (int w = 0; w < 2; ++w) {
          const int j = (c * kHeight + h) * kWidth + w + 1;
          EXPECT_EQ(this->data_.data_at(n, c, h, w), TypeParam(Pixel(n, j)) * TypeParam(0.5));
        }
}

TYPED_TEST(DataLayerTest, SeededContextsGiveRepeatableRandomTransforms) {
  const std::string text =
      this->LayerText("batch_size: 3", "transform_param { crop_size: 2 mirror: true }");
  std::vector<std::vector<TypeParam>> runs;
  for (uint64_t seed : {5, 5, 6}) {
    Context context(Device::kCpu, 0, seed);
    auto layer = test::MakeLayer<TypeParam>(text, &context);
    layer->SetUp({}, this->tops_);
    std::vector<TypeParam> values;
    for (int batch = 0; batch < 4; ++batch) {
      layer->Forward({}, this->tops_);
      values.insert(values.end(), this->data_.cpu_data(),
                    this->data_.cpu_data() + this->data_.count());
    }
    runs.push_back(values);
  }
  EXPECT_EQ(runs[0], runs[1]);
  EXPECT_NE(runs[0], runs[2]);
}

TYPED_TEST(DataLayerTest, RandSkipStartsAtARandomRecordThenKeepsOrder) {
  std::vector<int> starts;
  for (uint64_t seed = 0; seed < 12; ++seed) {
    Context context(Device::kCpu, 0, seed);
    auto layer =
        test::MakeLayer<TypeParam>(this->LayerText("batch_size: 4 rand_skip: 6"), &context);
    layer->SetUp({}, this->tops_);
    layer->Forward({}, this->tops_);
    const int first = (static_cast<int>(this->label_.cpu_data()[0]) - 100) / 7;
    ASSERT_GE(first, 0);
    ASSERT_LT(first, 6);
    for (int n = 1; n < 4; ++n)
      EXPECT_EQ(this->label_.cpu_data()[n], TypeParam(Label((first + n) % kRecords)));
    starts.push_back(first);
  }
  EXPECT_NE(*std::min_element(starts.begin(), starts.end()),
            *std::max_element(starts.begin(), starts.end()));
}

TYPED_TEST(DataLayerTest, DestroysCleanlyWithFullAndUnusedRing) {
  for (int forwards : {0, 1, 3}) {
    Context context;
    auto layer = test::MakeLayer<TypeParam>(this->LayerText("batch_size: 2 prefetch: 2"), &context);
    layer->SetUp({}, this->tops_);
    for (int i = 0; i < forwards; ++i) layer->Forward({}, this->tops_);
  }
}

TYPED_TEST(DataLayerTest, MissingSourceIsIoError) {
  Context context;
  const std::string missing = this->dir_ / "no_such_lmdb";
  auto layer = test::MakeLayer<TypeParam>(
      "name: 'data' type: 'Data' top: 'data' top: 'label' data_param { source: '" + missing +
          "' backend: LMDB batch_size: 2 }",
      &context);
  try {
    layer->SetUp({}, this->tops_);
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find(missing), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("layer 'data'"), std::string::npos) << error.what();
  }
}

TYPED_TEST(DataLayerTest, UnsetBackendMeansLevelDbAsInCaffe) {
  const std::string source = this->dir_ / "test_leveldb";
  WriteDatabase(source, -1, db::Backend::kLevelDb);
  for (const std::string backend : {"", "backend: LEVELDB"}) {
    Context context;
    auto layer =
        test::MakeLayer<TypeParam>("type: 'Data' top: 'data' top: 'label' data_param { source: '" +
                                       source + "' " + backend + " batch_size: 4 }",
                                   &context);
    layer->SetUp({}, this->tops_);
    for (int batch = 0; batch < 3; ++batch) {
      layer->Forward({}, this->tops_);
      for (int n = 0; n < 4; ++n) {
        const int record = (batch * 4 + n) % kRecords;
        EXPECT_EQ(this->label_.cpu_data()[n], TypeParam(Label(record))) << backend;
        EXPECT_EQ(this->data_.cpu_data()[n * kItem + 3], TypeParam(Pixel(record, 3))) << backend;
      }
    }
  }
}

TYPED_TEST(DataLayerTest, LmdbReadAsDefaultLevelDbNamesTheBackend) {
  Context context;
  auto layer = test::MakeLayer<TypeParam>(
      "type: 'Data' top: 'data' data_param { source: '" + this->source_ + "' batch_size: 2 }",
      &context);
  std::vector<Blob<TypeParam>*> tops{&this->data_};
  try {
    layer->SetUp({}, tops);
    FAIL() << "expected IoError";
  } catch (const IoError& error) {
    EXPECT_NE(std::string(error.what()).find("LevelDB"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find(this->source_), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("set data_param.backend to LMDB"), std::string::npos)
        << error.what();
  }
}

TYPED_TEST(DataLayerTest, BadParametersAreConfigErrors) {
  Context context;
  for (const std::string param : {"batch_size: 0", "batch_size: 2 prefetch: 0"}) {
    auto layer = test::MakeLayer<TypeParam>(this->LayerText(param), &context);
    EXPECT_THROW(layer->SetUp({}, this->tops_), ConfigError) << param;
  }
  auto layer = test::MakeLayer<TypeParam>(
      this->LayerText("batch_size: 2 mean_file: 'x'", "transform_param { mean_value: 1 }"),
      &context);
  // transform_param is present, so the old mean_file is not used and nothing conflicts.
  EXPECT_NO_THROW(layer->SetUp({}, this->tops_));
}

TYPED_TEST(DataLayerTest, PrefetchErrorsReachForwardNamingTheRecord) {
  test::TempDir dir;
  const std::string source = dir / "encoded_lmdb";
  WriteDatabase(source, /*encoded_record=*/5);
  Context context;
  auto layer = test::MakeLayer<TypeParam>(
      "name: 'data' type: 'Data' top: 'data' top: 'label' data_param { source: '" + source +
          "' backend: LMDB batch_size: 2 }",
      &context);
  layer->SetUp({}, this->tops_);
  // Records 0-3 arrive; the batch holding record 5 fails.
  layer->Forward({}, this->tops_);
  layer->Forward({}, this->tops_);
  EXPECT_EQ(this->label_.cpu_data()[1], TypeParam(Label(3)));
  std::string first_message;
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      layer->Forward({}, this->tops_);
      FAIL() << "expected IoError";
    } catch (const IoError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("'00000005'"), std::string::npos) << message;
      EXPECT_NE(message.find("OpenCV"), std::string::npos) << message;
      if (attempt == 0) first_message = message;
      EXPECT_EQ(message, first_message);
    }
  }
}

TYPED_TEST(DataLayerTest, RegisteredAndBackwardIsANoOp) {
  EXPECT_TRUE(LayerRegistry<TypeParam>::Has("Data"));
  Context context;
  auto layer = test::MakeLayer<TypeParam>(this->LayerText("batch_size: 2"), &context);
  layer->SetUp({}, this->tops_);
  layer->Forward({}, this->tops_);
  EXPECT_NO_THROW(layer->Backward(this->tops_, {false, false}, {}));
}

}  // namespace
}  // namespace moka
