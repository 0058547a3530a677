"""New training images from an actor's base image: Pillow augmentations or img2img."""

from .augment import AugmentBackend, Variation, augment_one
from .img2img import Img2ImgBackend, Img2ImgError
from .service import GenerateResult, generate_images, next_free_index

__all__ = ["AugmentBackend", "GenerateResult", "Img2ImgBackend", "Img2ImgError", "Variation",
           "augment_one", "generate_images", "next_free_index"]
