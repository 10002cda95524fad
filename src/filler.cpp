#include "filler.hpp"

#include <cmath>

#include "math_functions.hpp"

namespace moka {
namespace {

template <typename Dtype>
Dtype FanScale(const FillerParameter& filler, const Blob<Dtype>& blob) {
  MOKA_CHECK(blob.num_axes() >= 1 && blob.count() > 0, ShapeError,
             filler.type() << " filler needs a non-empty blob, got shape " << blob.shape_string());
  const Dtype fan_in = Dtype(blob.count()) / blob.shape(0);
  const Dtype fan_out = blob.num_axes() > 1 ? Dtype(blob.count()) / blob.shape(1) : Dtype(blob.count());
  switch (filler.variance_norm()) {
    case FillerParameter::FAN_OUT:
      return fan_out;
    case FillerParameter::AVERAGE:
      return (fan_in + fan_out) / Dtype(2);
    default:
      return fan_in;
  }
}

}  // namespace

template <typename Dtype>
void Fill(const FillerParameter& filler, std::mt19937_64& rng, Blob<Dtype>* blob) {
  const int count = blob->count();
  Dtype* data = blob->mutable_cpu_data();
  const std::string& type = filler.type();
  if (type == "constant") {
    cpu_set<Dtype>(count, filler.value(), data);
  } else if (type == "uniform") {
    rng_uniform<Dtype>(count, filler.min(), filler.max(), rng, data);
  } else if (type == "gaussian") {
    rng_gaussian<Dtype>(count, filler.mean(), filler.std(), rng, data);
    if (filler.sparse() >= 0) {
      MOKA_CHECK(blob->num_axes() >= 1 && blob->shape(0) > 0, ShapeError,
                 "sparse gaussian filler needs a blob with outputs on axis 0");
      const Dtype keep = Dtype(filler.sparse()) / Dtype(blob->shape(0));
      std::vector<unsigned int> mask(count);
      rng_bernoulli<Dtype>(count, std::min<Dtype>(keep, 1), rng, mask.data());
      for (int i = 0; i < count; ++i) data[i] *= mask[i];
    }
  } else if (type == "positive_unitball") {
    rng_uniform<Dtype>(count, 0, 1, rng, data);
    const int num = blob->shape(0);
    const int dim = count / num;
    for (int i = 0; i < num; ++i) {
      Dtype sum = 0;
      for (int j = 0; j < dim; ++j) sum += data[i * dim + j];
      for (int j = 0; j < dim; ++j) data[i * dim + j] /= sum;
    }
  } else if (type == "xavier") {
    const Dtype scale = std::sqrt(Dtype(3) / FanScale(filler, *blob));
    rng_uniform<Dtype>(count, -scale, scale, rng, data);
  } else if (type == "msra") {
    const Dtype stddev = std::sqrt(Dtype(2) / FanScale(filler, *blob));
    rng_gaussian<Dtype>(count, 0, stddev, rng, data);
  } else if (type == "bilinear") {
    MOKA_CHECK(blob->num_axes() == 4 && blob->shape(2) == blob->shape(3), ShapeError,
               "bilinear filler needs a 4-D blob with square kernels, got " << blob->shape_string());
    const int width = blob->shape(3);
    const int height = blob->shape(2);
    const int f = static_cast<int>(std::ceil(width / 2.0));
    const double c = (2 * f - 1 - f % 2) / (2.0 * f);
    for (int i = 0; i < count; ++i) {
      const double x = i % width;
      const double y = (i / width) % height;
      data[i] = static_cast<Dtype>((1 - std::fabs(x / f - c)) * (1 - std::fabs(y / f - c)));
    }
  } else {
    MOKA_THROW(ConfigError, "unknown filler type '" << type
                                                    << "' (known: constant, uniform, gaussian, "
                                                       "positive_unitball, xavier, msra, bilinear)");
  }
}

template void Fill<float>(const FillerParameter&, std::mt19937_64&, Blob<float>*);
template void Fill<double>(const FillerParameter&, std::mt19937_64&, Blob<double>*);

}  // namespace moka
