#![no_std]
#![no_main]
extern crate tinyctr;
#[no_mangle]
pub extern "C" fn main() -> i32 { 0 }
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! { loop {} }
