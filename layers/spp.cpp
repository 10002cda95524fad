#include "layers/spp.hpp"

#include <cmath>

#include "layer_registry.hpp"
#include "layers/concat.hpp"
#include "layers/flatten.hpp"
#include "layers/pooling.hpp"
#include "layers/split.hpp"

namespace moka {

template <typename Dtype>
SPPLayer<Dtype>::SPPLayer(const LayerParameter& param) : Layer<Dtype>(param) {}

template <typename Dtype>
SPPLayer<Dtype>::~SPPLayer() = default;

template <typename Dtype>
LayerParameter SPPLayer<Dtype>::LevelPoolingParam(int level, int height, int width,
                                                  SPPParameter::PoolMethod pool) {
  const int bins = 1 << level;
  // The kernel is the smallest that covers the image in `bins` steps; the shortfall is padded,
  // the odd pixel going to both sides (the pooling layer pads symmetrically).
  const int kernel_h = static_cast<int>(std::ceil(height / static_cast<double>(bins)));
  const int kernel_w = static_cast<int>(std::ceil(width / static_cast<double>(bins)));
  const int pad_h = (kernel_h * bins - height + 1) / 2;
  const int pad_w = (kernel_w * bins - width + 1) / 2;
  LayerParameter param;
  PoolingParameter* pooling = param.mutable_pooling_param();
  pooling->set_kernel_h(kernel_h);
  pooling->set_kernel_w(kernel_w);
  pooling->set_stride_h(kernel_h);
  pooling->set_stride_w(kernel_w);
  pooling->set_pad_h(pad_h);
  pooling->set_pad_w(pad_w);
  switch (pool) {
    case SPPParameter::MAX:
      pooling->set_pool(PoolingParameter::MAX);
      break;
    case SPPParameter::AVE:
      pooling->set_pool(PoolingParameter::AVE);
      break;
    case SPPParameter::STOCHASTIC:
      pooling->set_pool(PoolingParameter::STOCHASTIC);
      break;
    default:
      MOKA_THROW(ConfigError, "unknown pooling method " << static_cast<int>(pool));
  }
  return param;
}

template <typename Dtype>
void SPPLayer<Dtype>::LayerSetUp(const BlobVec& bottom, const BlobVec& top) {
  const SPPParameter& param = this->layer_param_.spp_param();
  MOKA_CHECK(param.pyramid_height() >= 1, ConfigError,
             "spp_param.pyramid_height must be at least 1, got " << param.pyramid_height());
  pyramid_height_ = static_cast<int>(param.pyramid_height());
  // 2^level bins must fit an int, and no image has 2^30 rows.
  MOKA_CHECK(pyramid_height_ <= 30, ConfigError,
             "spp_param.pyramid_height " << pyramid_height_ << " is too large");
  pool_ = param.pool();
  built_for_.clear();
  pooling_.assign(pyramid_height_, nullptr);
  if (pyramid_height_ == 1) return;

  split_ = std::make_shared<SplitLayer<Dtype>>(LayerParameter());
  split_->set_context(&this->context());
  split_tops_.clear();
  pooled_.clear();
  flat_.clear();
  split_top_vec_.clear();
  concat_bottom_vec_.clear();
  flatten_.clear();
  for (int level = 0; level < pyramid_height_; ++level) {
    split_tops_.push_back(std::make_unique<Blob<Dtype>>());
    pooled_.push_back(std::make_unique<Blob<Dtype>>());
    flat_.push_back(std::make_unique<Blob<Dtype>>());
    split_top_vec_.push_back(split_tops_.back().get());
    concat_bottom_vec_.push_back(flat_.back().get());
    flatten_.push_back(std::make_shared<FlattenLayer<Dtype>>(LayerParameter()));
    flatten_.back()->set_context(&this->context());
  }
  concat_ = std::make_shared<ConcatLayer<Dtype>>(LayerParameter());
  concat_->set_context(&this->context());
}

template <typename Dtype>
void SPPLayer<Dtype>::BuildLevels(const BlobVec& bottom, const BlobVec& top) {
  const int height = bottom[0]->height();
  const int width = bottom[0]->width();
  MOKA_CHECK(height > 0 && width > 0, ShapeError,
             "input height and width must be positive, got shape " << bottom[0]->shape_string());
  if (pyramid_height_ == 1) {
    pooling_[0] = std::make_shared<PoolingLayer<Dtype>>(LevelPoolingParam(0, height, width, pool_));
    pooling_[0]->set_context(&this->context());
    pooling_[0]->SetUp(bottom, top);
    return;
  }
  split_->SetUp(bottom, split_top_vec_);
  for (int level = 0; level < pyramid_height_; ++level) {
    pooling_[level] =
        std::make_shared<PoolingLayer<Dtype>>(LevelPoolingParam(level, height, width, pool_));
    pooling_[level]->set_context(&this->context());
    try {
      pooling_[level]->SetUp({split_tops_[level].get()}, {pooled_[level].get()});
    } catch (Error& error) {
      error.AddContext("pyramid level " + std::to_string(level) + " of a bottom of shape " +
                       bottom[0]->shape_string());
      throw;
    }
    flatten_[level]->SetUp({pooled_[level].get()}, {flat_[level].get()});
  }
  concat_->SetUp(concat_bottom_vec_, top);
}

template <typename Dtype>
void SPPLayer<Dtype>::Reshape(const BlobVec& bottom, const BlobVec& top) {
  MOKA_CHECK(bottom[0]->num_axes() == 4, ShapeError,
             "input must have 4 axes (num, channels, height, width), got shape "
                 << bottom[0]->shape_string());
  // The level geometry depends on the bottom's size: rebuild only when it changed.
  if (bottom[0]->shape() != built_for_) {
    built_for_.clear();
    BuildLevels(bottom, top);
    built_for_ = bottom[0]->shape();
    return;
  }
  if (pyramid_height_ == 1) {
    pooling_[0]->Reshape(bottom, top);
    return;
  }
  split_->Reshape(bottom, split_top_vec_);
  for (int level = 0; level < pyramid_height_; ++level) {
    pooling_[level]->Reshape({split_tops_[level].get()}, {pooled_[level].get()});
    flatten_[level]->Reshape({pooled_[level].get()}, {flat_[level].get()});
  }
  concat_->Reshape(concat_bottom_vec_, top);
}

template <typename Dtype>
void SPPLayer<Dtype>::RunForward(const BlobVec& bottom, const BlobVec& top) {
  if (pyramid_height_ == 1) {
    pooling_[0]->Forward(bottom, top);
    return;
  }
  split_->Forward(bottom, split_top_vec_);
  for (int level = 0; level < pyramid_height_; ++level) {
    pooling_[level]->Forward({split_tops_[level].get()}, {pooled_[level].get()});
    flatten_[level]->Forward({pooled_[level].get()}, {flat_[level].get()});
  }
  concat_->Forward(concat_bottom_vec_, top);
}

template <typename Dtype>
void SPPLayer<Dtype>::RunBackward(const BlobVec& top, const std::vector<bool>& propagate_down,
                                  const BlobVec& bottom) {
  if (!propagate_down[0]) return;
  if (pyramid_height_ == 1) {
    pooling_[0]->Backward(top, propagate_down, bottom);
    return;
  }
  const std::vector<bool> all(pyramid_height_, true);
  const std::vector<bool> one(1, true);
  concat_->Backward(top, all, concat_bottom_vec_);
  for (int level = 0; level < pyramid_height_; ++level) {
    flatten_[level]->Backward({flat_[level].get()}, one, {pooled_[level].get()});
    pooling_[level]->Backward({pooled_[level].get()}, one, {split_tops_[level].get()});
  }
  split_->Backward(split_top_vec_, propagate_down, bottom);
}

template <typename Dtype>
void SPPLayer<Dtype>::Forward_cpu(const BlobVec& bottom, const BlobVec& top) {
  RunForward(bottom, top);
}

template <typename Dtype>
void SPPLayer<Dtype>::Backward_cpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                   const BlobVec& bottom) {
  RunBackward(top, propagate_down, bottom);
}

MOKA_INSTANTIATE_CLASS(SPPLayer);
MOKA_REGISTER_LAYER(SPP);

}  // namespace moka
