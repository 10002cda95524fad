#pragma once
// Helpers for the solver tests: tiny nets as prototxt text, solver parameters, deterministic
// inputs, and quiet or captured logging.
#include <glog/logging.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "net.hpp"
#include "solver.hpp"
#include "solver_registry.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

namespace moka::test {

/// Input (data 4x3, label 4x2) -> InnerProduct (2 outputs) -> EuclideanLoss. Inputs are set by
/// the test (FillTinyInputs), so every forward pass sees the same batch. The weight has
/// lr_mult 1, decay_mult 1; the bias lr_mult 2, decay_mult 0.5, to exercise both multipliers.
inline std::string TinyNet(const std::string& extra_layers = "",
                           const std::string& loss_bottom = "out") {
  return R"(
    name: "tiny"
    layer { name: "input" type: "Input" top: "data" top: "label"
            input_param { shape { dim: 4 dim: 3 } shape { dim: 4 dim: 2 } } }
    layer { name: "ip" type: "InnerProduct" bottom: "data" top: "out"
            param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0.5 }
            inner_product_param { num_output: 2
              weight_filler { type: "gaussian" std: 0.5 }
              bias_filler { type: "constant" value: 0.1 } } }
  )" + extra_layers +
         R"(
    layer { name: "loss" type: "EuclideanLoss" bottom: ")" +
         loss_bottom + R"(" bottom: "label" top: "loss" }
  )";
}

/// DummyData with constant tops (the same batch on every pass, in train and test nets alike)
/// -> InnerProduct -> EuclideanLoss.
inline std::string ConstantDataNet() {
  return R"(
    name: "constant"
    layer { name: "data" type: "DummyData" top: "data" top: "label"
            dummy_data_param { shape { dim: 3 dim: 4 } shape { dim: 3 dim: 2 }
              data_filler { type: "constant" value: 0.7 }
              data_filler { type: "constant" value: -0.3 } } }
    layer { name: "ip" type: "InnerProduct" bottom: "data" top: "out"
            inner_product_param { num_output: 2
              weight_filler { type: "gaussian" std: 0.5 }
              bias_filler { type: "constant" value: 0.2 } } }
    layer { name: "loss" type: "EuclideanLoss" bottom: "out" bottom: "label" top: "loss" }
  )";
}

inline SolverParameter ParseSolver(const std::string& text) {
  SolverParameter param;
  if (!google::protobuf::TextFormat::ParseFromString(text, &param)) {
    ADD_FAILURE() << "could not parse solver text: " << text;
  }
  return param;
}

inline NetParameter ParseNet(const std::string& text) {
  NetParameter param;
  if (!google::protobuf::TextFormat::ParseFromString(text, &param)) {
    ADD_FAILURE() << "could not parse net text: " << text;
  }
  return param;
}

/// Solver parameters around `net_text` with the given extra solver fields.
inline SolverParameter MakeSolverParam(const std::string& net_text, const std::string& fields) {
  SolverParameter param = ParseSolver(fields);
  *param.mutable_net_param() = ParseNet(net_text);
  return param;
}

/// Fixed, varied values for the tiny net's data and label blobs.
template <typename Dtype>
void FillTinyInputs(Net<Dtype>* net) {
  Blob<Dtype>* data = net->blob_by_name("data").get();
  Blob<Dtype>* label = net->blob_by_name("label").get();
  for (int i = 0; i < data->count(); ++i) {
    data->mutable_cpu_data()[i] = static_cast<Dtype>(std::sin(1.3 * i + 0.2));
  }
  for (int i = 0; i < label->count(); ++i) {
    label->mutable_cpu_data()[i] = static_cast<Dtype>(0.5 * std::cos(0.7 * i));
  }
}

template <typename Dtype>
std::shared_ptr<Solver<Dtype>> MakeTinySolver(const SolverParameter& param) {
  auto solver = SolverRegistry<Dtype>::Create(param);
  FillTinyInputs(solver->net().get());
  return solver;
}

/// Copies of every learnable parameter's values.
template <typename Dtype>
std::vector<std::vector<Dtype>> ParamValues(const Net<Dtype>& net) {
  std::vector<std::vector<Dtype>> values;
  for (const Blob<Dtype>* blob : net.learnable_params()) {
    values.emplace_back(blob->cpu_data(), blob->cpu_data() + blob->count());
  }
  return values;
}

/// Raises glog's threshold to WARNING for the scope of a test (the solver logs every step).
class QuietLogs {
 public:
  QuietLogs() : saved_(FLAGS_minloglevel) { FLAGS_minloglevel = google::GLOG_WARNING; }
  ~QuietLogs() { FLAGS_minloglevel = saved_; }

 private:
  int saved_;
};

/// Collects the text of every glog message while alive (INFO included).
class LogCapture : public google::LogSink {
 public:
  LogCapture() : saved_(FLAGS_minloglevel) {
    FLAGS_minloglevel = google::GLOG_INFO;
    google::AddLogSink(this);
  }
  ~LogCapture() override {
    google::RemoveLogSink(this);
    FLAGS_minloglevel = saved_;
  }
  void send(google::LogSeverity, const char*, const char*, int, const google::LogMessageTime&,
            const char* message, size_t message_len) override {
    lines_.emplace_back(message, message_len);
  }
  const std::vector<std::string>& lines() const { return lines_; }
  bool Contains(const std::string& text) const {
    for (const auto& line : lines_) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
  /// The first line starting with `prefix`, or "" if none.
  std::string LineStartingWith(const std::string& prefix) const {
    for (const auto& line : lines_) {
      if (line.compare(0, prefix.size(), prefix) == 0) return line;
    }
    return "";
  }

 private:
  int saved_;
  std::vector<std::string> lines_;
};

}  // namespace moka::test
