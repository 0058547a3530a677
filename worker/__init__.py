"""The reference RunPod worker for actorbench's LoRA job contract (docs/runpod-worker.md)."""
