"""fairspec's training pipeline: corpus -> verifier -> drafters -> ONNX pack -> fairness report."""
