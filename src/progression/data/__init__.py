"""Small lookup tables that ship with the package (the 98 municipalities with codes and regions)."""
