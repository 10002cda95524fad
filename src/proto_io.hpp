#pragma once
// Reading and writing protobuf files. Text files that fail to parse raise ParseError with
// "file:line:col: message"; binary files that cannot be read raise IoError. Writes go to a
// temporary file that is renamed into place, so a crash never leaves a torn file.
#include <string>

#include <google/protobuf/message.h>

#include "error.hpp"
#include "moka.pb.h"

namespace moka {

void ReadProtoFromTextFile(const std::string& path, google::protobuf::Message* message);
/// Parses text from memory; `origin` names it in error messages.
void ReadProtoFromTextString(const std::string& text, const std::string& origin,
                             google::protobuf::Message* message);
void ReadProtoFromBinaryFile(const std::string& path, google::protobuf::Message* message);
void WriteProtoToTextFile(const google::protobuf::Message& message, const std::string& path);
void WriteProtoToBinaryFile(const google::protobuf::Message& message, const std::string& path);
bool FileExists(const std::string& path);

/// A net definition from a prototxt, upgraded from older Caffe formats where needed.
NetParameter ReadNetParamFromTextFile(const std::string& path);
/// Trained weights from a .caffemodel (binaryproto NetParameter), upgraded where needed.
NetParameter ReadNetParamFromBinaryFile(const std::string& path);
SolverParameter ReadSolverParamFromTextFile(const std::string& path);

}  // namespace moka
