//! Several users of one TPM: [`TpmMux`] is the TPM's client and gives each
//! user a [`TpmUser`], itself a TPM on the HIL (Tock's virtualisers, in
//! small). Commands run one at a time, in the order the users are served;
//! each user has at most one command waiting or in flight.
//!
//! Commands start from the mux's deferred call, and a user's command that
//! the TPM refuses at once comes back from there too, never from inside
//! the user's `send_command`.
//!
//! ```ignore
//! let mux = static_init!(TpmMux, TpmMux::new(driver));
//! driver.set_client(mux);
//! mux.register();
//! let startup_tpm = static_init!(TpmUser, TpmUser::new(mux));
//! startup_tpm.setup();
//! ```

use core::cell::Cell;

use kernel::cells::{OptionalCell, TakeCell};
use kernel::deferred_call::{DeferredCall, DeferredCallClient};
use kernel::hil::tpm::{Locality, Tpm, TpmClient};
use kernel::ErrorCode;

/// The TPM shared by [`TpmUser`]s.
pub struct TpmMux<'a> {
    tpm: &'a dyn Tpm<'a>,
    users: OptionalCell<&'a TpmUser<'a>>,
    current: OptionalCell<&'a TpmUser<'a>>,
    deferred_call: DeferredCall,
}

impl<'a> TpmMux<'a> {
    /// A mux over `tpm`; make it `tpm`'s client.
    pub fn new(tpm: &'a dyn Tpm<'a>) -> TpmMux<'a> {
        TpmMux {
            tpm,
            users: OptionalCell::empty(),
            current: OptionalCell::empty(),
            deferred_call: DeferredCall::new(),
        }
    }

    fn add(&self, user: &'a TpmUser<'a>) {
        if let Some(first) = self.users.get() {
            user.next.set(first);
        }
        self.users.set(user);
    }

    fn for_each(&self, mut visit: impl FnMut(&'a TpmUser<'a>) -> bool) {
        let mut next = self.users.get();
        while let Some(user) = next {
            if !visit(user) {
                return;
            }
            next = user.next.get();
        }
    }

    /// Starts the next waiting command, if the TPM is free; hands refused
    /// or cancelled ones back. Called from the deferred call and after a
    /// completion, never from a user's downcall.
    fn serve(&self) {
        if self.current.is_some() {
            return;
        }
        self.for_each(|user| {
            let Some(buffer) = user.waiting.take() else {
                return true;
            };
            if user.cancelled.replace(false) {
                user.deliver(buffer, 0, Err(ErrorCode::CANCEL));
                return true;
            }
            match self
                .tpm
                .send_command(buffer, user.length.get(), user.locality.get())
            {
                Ok(()) => {
                    self.current.set(user);
                    false
                }
                Err((error, buffer)) => {
                    user.deliver(buffer, 0, Err(error));
                    true
                }
            }
        });
    }
}

impl TpmClient for TpmMux<'_> {
    fn command_complete(
        &self,
        buffer: &'static mut [u8],
        response_length: usize,
        result: Result<(), ErrorCode>,
    ) {
        match self.current.take() {
            Some(user) => user.deliver(buffer, response_length, result),
            None => defmt::error!("tpm: a completion with no command in flight; dropped"),
        }
        self.serve();
    }
}

impl DeferredCallClient for TpmMux<'_> {
    fn handle_deferred_call(&self) {
        self.serve();
    }

    fn register(&'static self) {
        self.deferred_call.register(self);
    }
}

/// One user's TPM.
pub struct TpmUser<'a> {
    mux: &'a TpmMux<'a>,
    client: OptionalCell<&'a dyn TpmClient>,
    waiting: TakeCell<'static, [u8]>,
    length: Cell<usize>,
    locality: Cell<Locality>,
    cancelled: Cell<bool>,
    next: OptionalCell<&'a TpmUser<'a>>,
}

impl<'a> TpmUser<'a> {
    /// A user of `mux`; call [`TpmUser::setup`] once it is in its place.
    pub fn new(mux: &'a TpmMux<'a>) -> TpmUser<'a> {
        TpmUser {
            mux,
            client: OptionalCell::empty(),
            waiting: TakeCell::empty(),
            length: Cell::new(0),
            locality: Cell::new(Locality::ZERO),
            cancelled: Cell::new(false),
            next: OptionalCell::empty(),
        }
    }

    /// Joins the mux.
    pub fn setup(&'a self) {
        self.mux.add(self);
    }

    fn is_current(&self) -> bool {
        self.mux
            .current
            .get()
            .is_some_and(|current| core::ptr::eq(current, self))
    }

    fn deliver(&self, buffer: &'static mut [u8], length: usize, result: Result<(), ErrorCode>) {
        self.client
            .map(|client| client.command_complete(buffer, length, result));
    }
}

impl<'a> Tpm<'a> for TpmUser<'a> {
    fn set_client(&self, client: &'a dyn TpmClient) {
        self.client.set(client);
    }

    fn is_available(&self) -> bool {
        self.mux.tpm.is_available()
    }

    fn maximum_command_size(&self) -> usize {
        self.mux.tpm.maximum_command_size()
    }

    fn send_command(
        &self,
        buffer: &'static mut [u8],
        length: usize,
        locality: Locality,
    ) -> Result<(), (ErrorCode, &'static mut [u8])> {
        if self.waiting.is_some() || self.is_current() {
            return Err((ErrorCode::BUSY, buffer));
        }
        if !self.mux.tpm.is_available() {
            return Err((ErrorCode::OFF, buffer));
        }
        self.length.set(length);
        self.locality.set(locality);
        self.cancelled.set(false);
        self.waiting.replace(buffer);
        self.mux.deferred_call.set();
        Ok(())
    }

    fn cancel(&self) -> Result<(), ErrorCode> {
        if self.is_current() {
            return self.mux.tpm.cancel();
        }
        if self.waiting.is_some() {
            self.cancelled.set(true);
            self.mux.deferred_call.set();
            return Ok(());
        }
        Err(ErrorCode::ALREADY)
    }
}
