"""Generated protobuf code for spec/polycall.proto (regenerate with `make proto`)."""
