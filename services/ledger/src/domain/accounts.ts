/** Account ids: a wallet per user, a treasury per club, a pot per game, and the issuer of all crowns. */
export const ISSUER = 'system:issuer';
export const userAccount = (userId: string) => `user:${userId}`;
export const clubAccount = (clubId: string) => `club:${clubId}`;
export const gameAccount = (gameId: string) => `game:${gameId}`;
