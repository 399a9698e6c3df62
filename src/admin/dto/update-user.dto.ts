import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';

export class UpdateUserDto {
  @ApiProperty({ description: 'false deactivates the account: all its credentials stop working.' })
  @IsBoolean()
  active!: boolean;
}
